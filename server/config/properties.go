package config

import (
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Property is one key/value pair of a Java .properties file, unescaped but
// not trimmed (java.util.Properties keeps trailing blanks of a value; Apache
// ZooKeeper trims most values itself, see Parse).
type Property struct {
	Key   string
	Value string
	Line  int // 1-based physical line where the logical line starts
}

// ReadProperties reads r the way java.util.Properties.load does: logical
// lines joined by a trailing odd backslash, '#' and '!' comment lines,
// "key=value", "key:value" and "key value" forms, and the escapes \t \n \r
// \f \uXXXX and \<any char>. Unlike Java, which decodes a stream as
// ISO-8859-1, bytes outside escapes pass through unchanged (so UTF-8 paths
// stay UTF-8). name is only used in error messages. Duplicate keys are all
// returned, in file order; as in Java, the last one wins.
func ReadProperties(r io.Reader, name string) ([]Property, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lr := &lineReader{data: data, line: 1}
	var props []Property
	for {
		buf, start, ok := lr.next()
		if !ok {
			return props, nil
		}
		p, err := splitProperty(buf)
		if err != nil {
			return nil, &Error{File: name, Line: start, Msg: err.Error()}
		}
		p.Line = start
		props = append(props, p)
	}
}

// lineReader yields the logical lines of a properties file. It follows
// java.util.Properties.LineReader (Java 9+) step by step, including its
// quirks: a comment is recognised wherever a logical line is still empty
// (even right after a continuation), an empty physical line ends a
// continuation, and a backslash at end of input is dropped.
type lineReader struct {
	data []byte
	off  int
	line int // physical line of data[off]
}

// read consumes one byte, counting "\n", "\r" and "\r\n" as one line end.
func (lr *lineReader) read() byte {
	c := lr.data[lr.off]
	lr.off++
	if c == '\r' || (c == '\n' && (lr.off < 2 || lr.data[lr.off-2] != '\r')) {
		lr.line++
	}
	return c
}

func (lr *lineReader) skipComment() {
	for lr.off < len(lr.data) {
		if c := lr.read(); c == '\n' || c == '\r' {
			return
		}
	}
}

func isPropBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// next returns the next logical line without its continuation backslashes,
// the physical line it starts on, and false at end of input.
func (lr *lineReader) next() (buf []byte, start int, ok bool) {
	skipBlank, appended, backslash := true, false, false
	for {
		if lr.off >= len(lr.data) {
			return lr.atEOF(buf, start, backslash)
		}
		pos := lr.line
		c := lr.read()
		if skipBlank {
			if isPropBlank(c) || (!appended && (c == '\n' || c == '\r')) {
				continue
			}
			skipBlank, appended = false, false
		}
		if len(buf) == 0 {
			if c == '#' || c == '!' {
				lr.skipComment()
				skipBlank = true
				continue
			}
			start = pos
		}
		if c != '\n' && c != '\r' {
			buf = append(buf, c)
			backslash = c == '\\' && !backslash
			continue
		}
		if len(buf) == 0 {
			skipBlank = true
			continue
		}
		if lr.off >= len(lr.data) || !backslash {
			return lr.atEOF(buf, start, backslash)
		}
		// An odd backslash at the end joins the next line, minus its
		// leading blanks.
		buf = buf[:len(buf)-1]
		skipBlank, appended, backslash = true, true, false
		if c == '\r' && lr.off < len(lr.data) && lr.data[lr.off] == '\n' {
			lr.read()
		}
	}
}

func (lr *lineReader) atEOF(buf []byte, start int, backslash bool) ([]byte, int, bool) {
	if len(buf) == 0 {
		return nil, 0, false
	}
	if backslash {
		buf = buf[:len(buf)-1]
	}
	return buf, start, true
}

// splitProperty splits a logical line into key and value as
// Properties.load0 does: the key ends at the first unescaped '=', ':' or
// blank; blanks and at most one '=' or ':' separate it from the value.
func splitProperty(line []byte) (Property, error) {
	keyLen, valueStart, hasSep, backslash := 0, len(line), false, false
	for ; keyLen < len(line); keyLen++ {
		c := line[keyLen]
		if !backslash && (c == '=' || c == ':' || isPropBlank(c)) {
			valueStart, hasSep = keyLen+1, c == '=' || c == ':'
			break
		}
		backslash = c == '\\' && !backslash
	}
	for ; valueStart < len(line); valueStart++ {
		c := line[valueStart]
		if isPropBlank(c) {
			continue
		}
		if hasSep || (c != '=' && c != ':') {
			break
		}
		hasSep = true
	}
	key, err := unescape(line[:keyLen])
	if err != nil {
		return Property{}, err
	}
	value, err := unescape(line[valueStart:])
	return Property{Key: key, Value: value}, err
}

// unescape applies Properties.loadConvert: \t \n \r \f, \uXXXX (UTF-16
// surrogate pairs are joined), and \c meaning c for any other c.
func unescape(b []byte) (string, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		i++
		if i >= len(b) {
			break // cannot happen: the line reader drops a lone final backslash
		}
		switch c := b[i]; c {
		case 'u':
			r, n, err := unicodeEscape(b[i-1:])
			if err != nil {
				return "", err
			}
			out = utf8.AppendRune(out, r)
			i += n - 2
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 'f':
			out = append(out, '\f')
		default:
			out = append(out, c)
		}
	}
	return string(out), nil
}

// unicodeEscape decodes the \uXXXX at the start of b, and a following
// \uXXXX too when the two form a UTF-16 surrogate pair. It returns the rune
// and the number of bytes used.
func unicodeEscape(b []byte) (rune, int, error) {
	hi, err := hex4(b)
	if err != nil {
		return 0, 0, err
	}
	if utf16.IsSurrogate(hi) && len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
		if lo, err := hex4(b[6:]); err == nil {
			if r := utf16.DecodeRune(hi, lo); r != utf8.RuneError {
				return r, 12, nil
			}
		}
	}
	return hi, 6, nil // a lone surrogate becomes U+FFFD when encoded
}

func hex4(b []byte) (rune, error) {
	if len(b) < 6 {
		return 0, fmt.Errorf("malformed \\uxxxx encoding")
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, fmt.Errorf("malformed \\uxxxx encoding")
		}
	}
	return r, nil
}
