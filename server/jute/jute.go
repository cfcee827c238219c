// Package jute is the binary codec of ZooKeeper's wire and disk formats.
//
// Jute, ZooKeeper's record language, writes every value big-endian: int as
// 4 bytes, long as 8, boolean as one byte, and buffer, ustring and vector as a
// 4-byte length (or count) followed by the bytes (or elements), where a length
// of -1 means null. Records are the concatenation of their fields, with no
// tags and no padding. The Encoder appends to a byte slice; the Decoder reads
// one and keeps the first error, so a record decoder reads all its fields and
// checks Err once at the end.
package jute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrShort reports a record that ends before its fields do.
var ErrShort = errors.New("jute: record truncated")

// Encoder appends jute values to a byte slice.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an Encoder appending to buf (which may be nil).
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns everything encoded so far.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of bytes encoded so far.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the encoder, keeping its storage.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// Int appends a 4-byte big-endian integer.
func (e *Encoder) Int(v int32) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v)) }

// Long appends an 8-byte big-endian integer.
func (e *Encoder) Long(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }

// Bool appends a boolean as one byte, 1 or 0.
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Buffer appends a length-prefixed byte string; nil is written as length -1.
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(b)))
	e.buf = append(e.buf, b...)
}

// String appends a length-prefixed UTF-8 string. Jute has no null string on
// the write side of this codec: an empty string is written as length 0.
func (e *Encoder) String(s string) {
	e.Int(int32(len(s)))
	e.buf = append(e.buf, s...)
}

// NullableString appends a string, or a null string (length -1) when ok is false.
func (e *Encoder) NullableString(s string, ok bool) {
	if !ok {
		e.Int(-1)
		return
	}
	e.String(s)
}

// Strings appends a vector of strings; nil is written as count -1.
func (e *Encoder) Strings(v []string) {
	if v == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// Raw appends bytes as they are, with no length prefix.
func (e *Encoder) Raw(b []byte) { e.buf = append(e.buf, b...) }

// Decoder reads jute values from a byte slice, remembering the first error.
type Decoder struct {
	buf []byte
	off int
	err error
	// MaxBuffer bounds any single buffer or string length (jute.maxbuffer);
	// zero means only the input's own length bounds it.
	MaxBuffer int
	// Alias makes BufferCopy return slices of the input instead of copies,
	// for a caller that owns the input and keeps it as long as the values.
	Alias bool
}

// NewDecoder returns a Decoder over buf.
func NewDecoder(buf []byte) *Decoder { return &Decoder{buf: buf} }

// Err returns the first error met, if any.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset returns the number of bytes read so far.
func (d *Decoder) Offset() int { return d.off }

// Rest returns the unread bytes without consuming them.
func (d *Decoder) Rest() []byte { return d.buf[d.off:] }

// Fail records err as the decoder's error unless one is already recorded.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || d.Remaining() < n {
		d.err = ErrShort
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// Int reads a 4-byte big-endian integer.
func (d *Decoder) Int() int32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Long reads an 8-byte big-endian integer.
func (d *Decoder) Long() int64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bool reads a one-byte boolean; any non-zero byte is true, as in Java's
// DataInput.readBoolean.
func (d *Decoder) Bool() bool {
	b := d.take(1)
	return b != nil && b[0] != 0
}

// length reads a length prefix and checks it against the input and MaxBuffer.
// It returns -1 for a null value.
func (d *Decoder) length(what string) int {
	n := int(d.Int())
	if d.err != nil || n == -1 {
		return -1
	}
	if n < -1 {
		d.Fail(fmt.Errorf("jute: negative %s length %d", what, n))
		return -1
	}
	if d.MaxBuffer > 0 && n > d.MaxBuffer {
		d.Fail(fmt.Errorf("jute: %s length %d exceeds the limit %d", what, n, d.MaxBuffer))
		return -1
	}
	if n > d.Remaining() {
		d.Fail(ErrShort)
		return -1
	}
	return n
}

// Buffer reads a length-prefixed byte string; length -1 gives nil. The result
// aliases the input: copy it if the input buffer is reused.
func (d *Decoder) Buffer() []byte {
	n := d.length("buffer")
	if n < 0 {
		return nil
	}
	return d.take(n)
}

// BufferCopy is Buffer with the result copied out of the input (unless
// Alias is set).
func (d *Decoder) BufferCopy() []byte {
	b := d.Buffer()
	if b == nil || d.Alias {
		return b
	}
	return append(make([]byte, 0, len(b)), b...)
}

// String reads a length-prefixed string; length -1 (null) gives "".
func (d *Decoder) String() string {
	n := d.length("string")
	if n < 0 {
		return ""
	}
	return string(d.take(n))
}

// NullableString reads a string and whether it was non-null.
func (d *Decoder) NullableString() (string, bool) {
	n := d.length("string")
	if n < 0 {
		return "", false
	}
	return string(d.take(n)), d.err == nil
}

// Count reads a vector's element count; -1 (null) is returned as is. Each
// element takes at least minSize bytes, which bounds the count by the input.
func (d *Decoder) Count(minSize int) int {
	n := int(d.Int())
	if d.err != nil || n == -1 {
		return -1
	}
	if n < -1 || (minSize > 0 && n > d.Remaining()/minSize) {
		d.Fail(fmt.Errorf("jute: bad vector count %d", n))
		return -1
	}
	return n
}

// Strings reads a vector of strings; count -1 gives nil.
func (d *Decoder) Strings() []string {
	n := d.Count(4)
	if n < 0 {
		return nil
	}
	v := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		v = append(v, d.String())
	}
	return v
}

// JavaString returns the bytes a Java peer sends back for a string it
// read: the bytes decoded as JavaUTF8 does, then written the way jute's
// BinaryOutputArchive.writeString does, which encodes each UTF-16 char on
// its own, so a character outside the BMP goes out as its two surrogates,
// three bytes each (CESU-8).
func JavaString(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b []byte
	for _, r := range JavaUTF8(s) {
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			b = appendSurrogate(b, r1)
			b = appendSurrogate(b, r2)
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// JavaUTF8 returns new String(bytes, UTF_8).getBytes(UTF_8) in Java: s
// decoded with Java's UTF-8 decoder, each malformed sequence replaced by
// U+FFFD under that decoder's rules (not Go's), and encoded back as UTF-8.
// ZooKeeper reads every jute ustring this way (BinaryInputArchive.readString).
func JavaUTF8(s string) string {
	if isPlainASCII(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := javaDecodeRune(s[i:])
		b = utf8.AppendRune(b, r)
		i += n
	}
	return string(b)
}

// javaDecodeRune decodes the first character of s as JDK 17's String UTF-8
// decoder (String.decodeUTF8_UTF16 with replacement) does, returning it, or
// U+FFFD for a malformed sequence, and how many bytes it took.
func javaDecodeRune(s string) (rune, int) {
	b1 := s[0]
	switch {
	case b1 < 0x80:
		return rune(b1), 1
	case b1 >= 0xc2 && b1 <= 0xdf:
		if len(s) < 2 || !isCont(s[1]) {
			return utf8.RuneError, 1
		}
		return rune(b1&0x1f)<<6 | rune(s[1]&0x3f), 2
	case b1 >= 0xe0 && b1 <= 0xef:
		return javaDecode3(s)
	case b1 >= 0xf0 && b1 <= 0xf7:
		return javaDecode4(s)
	}
	return utf8.RuneError, 1 // a continuation byte, c0, c1 or f8..ff
}

// javaDecode3 decodes a sequence led by e0..ef. A malformed one is replaced
// as one character covering the lead and, when it is a fitting second
// byte, that byte too; an encoded surrogate counts as one malformed
// 3-byte sequence.
func javaDecode3(s string) (rune, int) {
	b1 := s[0]
	if len(s) < 2 {
		return utf8.RuneError, 1
	}
	badSecond := b1 == 0xe0 && s[1]&0xe0 == 0x80 || !isCont(s[1])
	switch {
	case badSecond:
		return utf8.RuneError, 1
	case len(s) < 3:
		return utf8.RuneError, 2 // truncated at the end of the input
	case !isCont(s[2]):
		return utf8.RuneError, 2
	}
	r := rune(b1&0x0f)<<12 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f)
	if r >= 0xd800 && r <= 0xdfff {
		return utf8.RuneError, 3
	}
	return r, 3
}

// javaDecode4 decodes a sequence led by f0..f7, with Java's quirks: a bad
// or out-of-range second byte replaces the lead alone, otherwise the lead
// and its continuation bytes make one replacement.
func javaDecode4(s string) (rune, int) {
	b1 := s[0]
	if len(s) < 2 {
		return utf8.RuneError, 1
	}
	b2 := s[1]
	if b1 > 0xf4 || b1 == 0xf0 && (b2 < 0x90 || b2 > 0xbf) ||
		b1 == 0xf4 && b2&0xf0 != 0x80 || !isCont(b2) {
		return utf8.RuneError, 1
	}
	switch {
	case len(s) < 3:
		return utf8.RuneError, 2
	case !isCont(s[2]):
		return utf8.RuneError, 2
	case len(s) < 4:
		return utf8.RuneError, 3 // truncated at the end of the input
	case !isCont(s[3]):
		return utf8.RuneError, 3
	}
	return rune(b1&0x07)<<18 | rune(b2&0x3f)<<12 | rune(s[2]&0x3f)<<6 | rune(s[3]&0x3f), 4
}

func isCont(b byte) bool { return b&0xc0 == 0x80 }

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// appendSurrogate encodes one UTF-16 surrogate as a 3-byte sequence.
func appendSurrogate(b []byte, r rune) []byte {
	return append(b, byte(0xe0|r>>12), byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f))
}
