package proto

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidatePath walks the rules of PathUtils.validatePath one by one.
// Java judges UTF-16 code units of the string it decoded, so a non-BMP
// character (a surrogate pair) and undecodable bytes (U+FFFD) are invalid.
func TestValidatePath(t *testing.T) {
	cases := []struct {
		path   string
		reason string // "" for a valid path
	}{
		// Valid paths.
		{"/", ""},
		{"/a", ""},
		{"/a/b/c", ""},
		{"/zookeeper/quota", ""},
		{"/...", ""}, // only "." and ".." segments are relative
		{"/a/.../b", ""},
		{"/.a", ""},
		{"/a.", ""},
		{"/..a", ""},
		{"/a..", ""},
		{"/a/.b/c.", ""},
		{"/ü/€/日本", ""}, // BMP characters outside the rejected ranges
		{"/\u00a0", ""}, // just past the C1 controls
		{"/\uf900", ""}, // just past the private use area
		{"/\uffef", ""}, // just before the specials
		{"/a b", ""},    // spaces are fine
		{"/a-0000000001", ""},

		// Rule: length > 0.
		{"", "path length must be > 0"},
		// Rule: absolute.
		{"a", "path must start with / character"},
		{"a/b", "path must start with / character"},
		{".", "path must start with / character"},
		// Rule: no trailing slash (except the root).
		{"/a/", "path must not end with / character"},
		{"//", "path must not end with / character"},
		// Rule: no NUL.
		{"/a\x00b", "null character not allowed"},
		{"/\x00", "null character not allowed"},
		// Rule: no empty segment.
		{"//a", "empty node name specified"},
		{"/a//b", "empty node name specified"},
		// Rule: no "." or ".." segment.
		{"/.", "relative paths not allowed"},
		{"/..", "relative paths not allowed"},
		{"/a/.", "relative paths not allowed"},
		{"/a/..", "relative paths not allowed"},
		{"/./a", "relative paths not allowed"},
		{"/a/../b", "relative paths not allowed"},
		// Rule: invalid characters (Java's four ranges).
		{"/a\x01", "invalid character"},
		{"/a\tb", "invalid character"},
		{"/a\x1f", "invalid character"},
		{"/\x7f", "invalid character"},
		{"/\u0080", "invalid character"},
		{"/\u009f", "invalid character"},
		{"/\ue000", "invalid character"}, // private use, inside d800..f8ff
		{"/\uf8ff", "invalid character"},
		{"/\ufff0", "invalid character"},
		{"/\ufffd", "invalid character"}, // a literal replacement character
		{"/\uffff", "invalid character"},
		{"/😀", "invalid character"},      // a surrogate pair in Java
		{"/a\xffb", "invalid character"}, // decodes to U+FFFD
		{"/\xc0\xaf", "invalid character"},
		{"/\xed\xa0\x80", "invalid character"}, // an encoded surrogate
	}
	for _, c := range cases {
		err := ValidatePath(c.path)
		if c.reason == "" {
			require.NoError(t, err, "path %q", c.path)
			continue
		}
		require.Error(t, err, "path %q", c.path)
		require.Contains(t, err.Error(), c.reason, "path %q", c.path)
	}
}

// The first offending character decides the reason, as Java's loop breaks
// at the first problem.
func TestValidatePathFirstProblemWins(t *testing.T) {
	cases := []struct{ path, reason string }{
		{"/a\x00//", "path must not end with / character"}, // the trailing slash is checked first
		{"/a\x00//b", "null character not allowed"},
		{"/a//\x00", "empty node name specified"},
		{"/./\x01", "relative paths not allowed"},
		{"/\x01/.", "invalid character"},
	}
	for _, c := range cases {
		err := ValidatePath(c.path)
		require.Error(t, err, c.path)
		require.Contains(t, err.Error(), c.reason, "path %q", c.path)
	}
}

func TestParentPath(t *testing.T) {
	cases := []struct{ path, parent, name string }{
		{"/a", "/", "a"},
		{"/a/b", "/a", "b"},
		{"/a/b/c", "/a/b", "c"},
		{"/zookeeper/config", "/zookeeper", "config"},
		{"/x-0000000001", "/", "x-0000000001"},
	}
	for _, c := range cases {
		parent, name := ParentPath(c.path)
		require.Equal(t, c.parent, parent, c.path)
		require.Equal(t, c.name, name, c.path)
	}
}
