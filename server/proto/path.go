package proto

import (
	"errors"
	"unicode/utf8"
)

// ValidatePath checks a znode path with the rules of ZooKeeper's
// PathUtils.validatePath: absolute, no empty, "." or ".." segments, no
// trailing slash, no NUL and no character in the ranges Java rejects. Java
// judges UTF-16 code units, so characters outside the BMP (surrogate pairs)
// and undecodable bytes (U+FFFD) are invalid too.
func ValidatePath(path string) error {
	if len(path) == 0 {
		return errors.New("path length must be > 0")
	}
	if path[0] != '/' {
		return errors.New("path must start with / character")
	}
	if len(path) == 1 {
		return nil
	}
	if path[len(path)-1] == '/' {
		return errors.New("path must not end with / character")
	}
	prev := '/'
	for i, r := range path {
		if i == 0 {
			continue
		}
		switch {
		case r == 0:
			return errors.New("null character not allowed")
		case r == '/' && prev == '/':
			return errors.New("empty node name specified")
		case r == '/' && prev == '.' && dotSegmentEndsAt(path, i):
			return errors.New("relative paths not allowed")
		case invalidRune(r):
			return errors.New("invalid character")
		}
		prev = r
	}
	if prev == '.' && dotSegmentEndsAt(path, len(path)) {
		return errors.New("relative paths not allowed")
	}
	return nil
}

// dotSegmentEndsAt reports whether the segment ending just before end is
// "." or "..".
func dotSegmentEndsAt(path string, end int) bool {
	start := end
	for start > 0 && path[start-1] != '/' {
		start--
	}
	seg := path[start:end]
	return seg == "." || seg == ".."
}

func invalidRune(r rune) bool {
	return (r > 0 && r <= 0x1f) ||
		(r >= 0x7f && r <= 0x9f) ||
		(r >= 0xd800 && r <= 0xf8ff) ||
		(r >= 0xfff0 && r <= 0xffff) ||
		r > 0xffff || r == utf8.RuneError
}

// ParentPath returns the parent of a valid path ("/" for top-level nodes)
// and the last segment.
func ParentPath(path string) (parent, name string) {
	i := len(path) - 1
	for i > 0 && path[i] != '/' {
		i--
	}
	if i == 0 {
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}
