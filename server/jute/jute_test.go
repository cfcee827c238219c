package jute

import (
	"encoding/hex"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEncoderWireBytes(t *testing.T) {
	cases := []struct {
		name string
		enc  func(e *Encoder)
		want string // hex
	}{
		{"int 1", func(e *Encoder) { e.Int(1) }, "00000001"},
		{"int -1", func(e *Encoder) { e.Int(-1) }, "ffffffff"},
		{"int min", func(e *Encoder) { e.Int(math.MinInt32) }, "80000000"},
		{"long", func(e *Encoder) { e.Long(0x0102030405060708) }, "0102030405060708"},
		{"long -2", func(e *Encoder) { e.Long(-2) }, "fffffffffffffffe"},
		{"bool true", func(e *Encoder) { e.Bool(true) }, "01"},
		{"bool false", func(e *Encoder) { e.Bool(false) }, "00"},
		{"buffer nil", func(e *Encoder) { e.Buffer(nil) }, "ffffffff"},
		{"buffer empty", func(e *Encoder) { e.Buffer([]byte{}) }, "00000000"},
		{"buffer", func(e *Encoder) { e.Buffer([]byte{0xca, 0xfe}) }, "00000002cafe"},
		{"string empty", func(e *Encoder) { e.String("") }, "00000000"},
		{"string", func(e *Encoder) { e.String("/a") }, "000000022f61"},
		{"string utf8", func(e *Encoder) { e.String("é") }, "00000002c3a9"},
		{"nullable null", func(e *Encoder) { e.NullableString("ignored", false) }, "ffffffff"},
		{"nullable empty", func(e *Encoder) { e.NullableString("", true) }, "00000000"},
		{"strings nil", func(e *Encoder) { e.Strings(nil) }, "ffffffff"},
		{"strings empty", func(e *Encoder) { e.Strings([]string{}) }, "00000000"},
		{"strings", func(e *Encoder) { e.Strings([]string{"a", ""}) }, "00000002" + "0000000161" + "00000000"},
		{"raw", func(e *Encoder) { e.Raw([]byte{1, 2, 3}) }, "010203"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := NewEncoder(nil)
			c.enc(e)
			require.Equal(t, c.want, hex.EncodeToString(e.Bytes()))
			require.Equal(t, len(c.want)/2, e.Len())
		})
	}
}

func TestEncoderAppendsAndResets(t *testing.T) {
	e := NewEncoder([]byte{0xaa})
	e.Int(7)
	require.Equal(t, []byte{0xaa, 0, 0, 0, 7}, e.Bytes())
	e.Reset()
	require.Equal(t, 0, e.Len())
	e.Bool(true)
	require.Equal(t, []byte{1}, e.Bytes())
}

// everything is one record holding every jute type, encoded then decoded.
type everything struct {
	i        int32
	l        int64
	b        bool
	buf      []byte
	s        string
	ns       string
	nsOK     bool
	strs     []string
	emptyBuf []byte
}

func (v *everything) encode(e *Encoder) {
	e.Int(v.i)
	e.Long(v.l)
	e.Bool(v.b)
	e.Buffer(v.buf)
	e.String(v.s)
	e.NullableString(v.ns, v.nsOK)
	e.Strings(v.strs)
	e.Buffer(v.emptyBuf)
}

func (v *everything) decode(d *Decoder) {
	v.i = d.Int()
	v.l = d.Long()
	v.b = d.Bool()
	v.buf = d.BufferCopy()
	v.s = d.String()
	v.ns, v.nsOK = d.NullableString()
	v.strs = d.Strings()
	v.emptyBuf = d.Buffer()
}

func TestRoundTrip(t *testing.T) {
	cases := []everything{
		{},
		{i: math.MaxInt32, l: math.MinInt64, b: true, buf: []byte("data"), s: "/zk/ü/€", ns: "x", nsOK: true, strs: []string{"a", "bc", ""}, emptyBuf: []byte{}},
		{i: -1, l: -1, buf: nil, s: "", ns: "", nsOK: true, strs: []string{}, emptyBuf: nil},
		{i: 0, l: 1 << 40, buf: make([]byte, 1000), s: string(make([]byte, 300)), strs: nil},
	}
	for i, in := range cases {
		e := NewEncoder(nil)
		in.encode(e)
		d := NewDecoder(e.Bytes())
		var out everything
		out.decode(d)
		require.NoError(t, d.Err(), "case %d", i)
		require.Equal(t, 0, d.Remaining(), "case %d", i)
		require.Equal(t, len(e.Bytes()), d.Offset())
		if !in.nsOK {
			in.ns = "" // a null string reads back as "", not ok
		}
		require.Equal(t, in, out, "case %d", i)
	}
}

func TestDecodeNulls(t *testing.T) {
	null := []byte{0xff, 0xff, 0xff, 0xff}
	cases := []struct {
		name string
		read func(d *Decoder) any
		want any
	}{
		{"buffer", func(d *Decoder) any { return d.Buffer() }, []byte(nil)},
		{"buffer copy", func(d *Decoder) any { return d.BufferCopy() }, []byte(nil)},
		{"string", func(d *Decoder) any { return d.String() }, ""},
		{"nullable string", func(d *Decoder) any { s, ok := d.NullableString(); return [2]any{s, ok} }, [2]any{"", false}},
		{"strings", func(d *Decoder) any { return d.Strings() }, []string(nil)},
		{"count", func(d *Decoder) any { return d.Count(4) }, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(null)
			require.Equal(t, c.want, c.read(d))
			require.NoError(t, d.Err())
			require.Equal(t, 0, d.Remaining())
		})
	}
}

func TestDecodeEmptyIsNotNull(t *testing.T) {
	d := NewDecoder([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	b := d.Buffer()
	require.NotNil(t, b)
	require.Empty(t, b)
	s, ok := d.NullableString()
	require.True(t, ok)
	require.Equal(t, "", s)
	v := d.Strings()
	require.NotNil(t, v)
	require.Empty(t, v)
	require.NoError(t, d.Err())
}

func TestDecodeBoolAnyNonZeroIsTrue(t *testing.T) {
	for _, b := range []byte{1, 2, 0x80, 0xff} {
		d := NewDecoder([]byte{b})
		require.True(t, d.Bool(), "byte %#x", b)
	}
	d := NewDecoder([]byte{0})
	require.False(t, d.Bool())
}

// Every prefix of a record fails to decode, without a panic. The error is
// ErrShort, except where a vector's count is cut off from its elements: the
// count bound (each element takes at least minSize bytes) rejects the count
// first, as a bad vector count.
func TestTruncatedInputIsErrShort(t *testing.T) {
	in := everything{i: 1, l: 2, b: true, buf: []byte("abc"), s: "hello", ns: "n", nsOK: true, strs: []string{"x", "yz"}, emptyBuf: []byte{}}
	e := NewEncoder(nil)
	in.encode(e)
	full := e.Bytes()
	for cut := 0; cut < len(full); cut++ {
		d := NewDecoder(full[:cut])
		var out everything
		require.NotPanics(t, func() { out.decode(d) }, "cut %d", cut)
		require.Error(t, d.Err(), "cut %d", cut)
		if !errors.Is(d.Err(), ErrShort) {
			require.Contains(t, d.Err().Error(), "bad vector count", "cut %d", cut)
		}
	}
}

func TestTruncatedSingleValues(t *testing.T) {
	cases := []struct {
		name string
		in   string // hex
		read func(d *Decoder)
	}{
		{"int", "000000", func(d *Decoder) { d.Int() }},
		{"long", "00000000000000", func(d *Decoder) { d.Long() }},
		{"bool", "", func(d *Decoder) { d.Bool() }},
		{"buffer body", "00000003aabb", func(d *Decoder) { d.Buffer() }},
		{"string body", "00000005616263", func(d *Decoder) { _ = d.String() }},
		{"nullable body", "0000000261", func(d *Decoder) { d.NullableString() }},
		{"strings element", "00000001" + "00000005" + "6162", func(d *Decoder) { d.Strings() }},
		{"count", "0000", func(d *Decoder) { d.Count(1) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := hex.DecodeString(c.in)
			require.NoError(t, err)
			d := NewDecoder(b)
			require.NotPanics(t, func() { c.read(d) })
			require.ErrorIs(t, d.Err(), ErrShort)
		})
	}
}

func TestLengthBounds(t *testing.T) {
	cases := []struct {
		name      string
		in        string
		max       int
		read      func(d *Decoder)
		wantShort bool // ErrShort rather than another error
	}{
		{"negative buffer length", "fffffffe", 0, func(d *Decoder) { d.Buffer() }, false},
		{"negative string length", "80000000", 0, func(d *Decoder) { _ = d.String() }, false},
		{"buffer over MaxBuffer", "00000005" + "0102030405", 4, func(d *Decoder) { d.Buffer() }, false},
		{"string over MaxBuffer", "00000005" + "6162636465", 4, func(d *Decoder) { _ = d.String() }, false},
		{"nullable over MaxBuffer", "00000005" + "6162636465", 4, func(d *Decoder) { d.NullableString() }, false},
		{"huge length, no MaxBuffer", "7fffffff", 0, func(d *Decoder) { d.Buffer() }, true},
		{"negative count", "fffffffe", 0, func(d *Decoder) { d.Count(4) }, false},
		{"count beyond input", "00000003" + "00000000" + "00000000", 0, func(d *Decoder) { d.Count(4) }, false},
		{"strings count beyond input", "7fffffff", 0, func(d *Decoder) { d.Strings() }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := hex.DecodeString(c.in)
			require.NoError(t, err)
			d := NewDecoder(b)
			d.MaxBuffer = c.max
			require.NotPanics(t, func() { c.read(d) })
			require.Error(t, d.Err())
			if c.wantShort {
				require.ErrorIs(t, d.Err(), ErrShort)
			} else {
				require.NotErrorIs(t, d.Err(), ErrShort)
			}
		})
	}
}

func TestLengthAtTheLimitsIsAccepted(t *testing.T) {
	d := NewDecoder([]byte{0, 0, 0, 4, 1, 2, 3, 4})
	d.MaxBuffer = 4
	require.Equal(t, []byte{1, 2, 3, 4}, d.Buffer())
	require.NoError(t, d.Err())

	// A count equal to what the input can hold passes the bound.
	d = NewDecoder([]byte{0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0})
	require.Equal(t, 2, d.Count(4))
	require.NoError(t, d.Err())
	// minSize 0 does not bound the count by the input.
	d = NewDecoder([]byte{0, 0, 0x10, 0})
	require.Equal(t, 4096, d.Count(0))
	require.NoError(t, d.Err())
}

func TestFirstErrorSticks(t *testing.T) {
	d := NewDecoder([]byte{0, 0, 0, 1, 0xff})
	require.Equal(t, int32(1), d.Int())
	require.Equal(t, int64(0), d.Long()) // short
	require.ErrorIs(t, d.Err(), ErrShort)
	// Later reads return zero values and leave the input alone.
	require.Equal(t, 1, d.Remaining())
	require.False(t, d.Bool())
	require.Equal(t, int32(0), d.Int())
	require.Nil(t, d.Buffer())
	require.Equal(t, "", d.String())
	require.Equal(t, 1, d.Remaining())
	d.Fail(errors.New("later"))
	require.ErrorIs(t, d.Err(), ErrShort)

	d = NewDecoder(nil)
	boom := errors.New("boom")
	d.Fail(boom)
	d.Fail(errors.New("second"))
	require.ErrorIs(t, d.Err(), boom)
}

func TestDecoderPosition(t *testing.T) {
	d := NewDecoder([]byte{0, 0, 0, 9, 1, 2})
	require.Equal(t, 6, d.Remaining())
	require.Equal(t, 0, d.Offset())
	require.Equal(t, int32(9), d.Int())
	require.Equal(t, 4, d.Offset())
	require.Equal(t, []byte{1, 2}, d.Rest())
	require.Equal(t, 2, d.Remaining()) // Rest does not consume
}

func TestBufferAliasesAndBufferCopyDoesNot(t *testing.T) {
	in := []byte{0, 0, 0, 2, 'a', 'b', 0, 0, 0, 2, 'c', 'd'}
	d := NewDecoder(in)
	alias := d.Buffer()
	cp := d.BufferCopy()
	in[4], in[10] = 'X', 'Y'
	require.Equal(t, []byte("Xb"), alias)
	require.Equal(t, []byte("cd"), cp)

	// With Alias set, BufferCopy aliases too; null stays nil.
	in = []byte{0, 0, 0, 2, 'a', 'b', 0xff, 0xff, 0xff, 0xff}
	d = NewDecoder(in)
	d.Alias = true
	b := d.BufferCopy()
	in[4] = 'Z'
	require.Equal(t, []byte("Zb"), b)
	require.Nil(t, d.BufferCopy())
	require.NoError(t, d.Err())
}

// The expected outputs were produced by ZooKeeper 3.8's jute: the input
// bytes read with BinaryInputArchive.readString, then written back with
// BinaryOutputArchive.writeString (a tiny Java program run with
// `java -cp /usr/share/java/zookeeper-jute.jar Js.java <hex>...`).
var javaStringOracle = []struct {
	name, in, want string // hex
}{
	{"ascii", "616263", "616263"},
	{"nul and del", "007f", "007f"},
	{"two-byte", "c3a9", "c3a9"},
	{"U+0080", "c280", "c280"},
	{"three-byte", "e282ac", "e282ac"},
	{"U+FFFF", "efbfbf", "efbfbf"},
	{"non-BMP as CESU-8", "f09f9880", "eda0bdedb880"},
	{"lone invalid byte", "ff", "efbfbd"},
	{"invalid byte inside", "61ff62", "61efbfbd62"},
	{"overlong slash", "c0af", "efbfbdefbfbd"},
	{"bad continuation", "c328", "efbfbd28"},
	{"above U+10FFFF", "f4908080", "efbfbdefbfbdefbfbdefbfbd"},
}

func TestJavaString(t *testing.T) {
	for _, c := range javaStringOracle {
		t.Run(c.name, func(t *testing.T) {
			in, err := hex.DecodeString(c.in)
			require.NoError(t, err)
			require.Equal(t, c.want, hex.EncodeToString([]byte(JavaString(string(in)))))
		})
	}
}

// javaStringMalformedOracle covers each branch of Java's UTF-8 decoder.
// jute is what ZooKeeper 3.8 echoes (readString then writeString, as in
// javaStringOracle), utf8 is new String(bytes, UTF_8).getBytes(UTF_8); both
// printed by one Java program on JDK 17 (JDK 25 prints the same). The same
// program agreed with JavaString and JavaUTF8 on every 1- and 2-byte input,
// on every 3- and 4-byte input over 27 boundary bytes, and on 600,000 random
// inputs of 3 to 12 bytes.
var javaStringMalformedOracle = []struct {
	name, in, jute, utf8 string // hex
}{
	{"lone 2-byte lead", "c2", "efbfbd", "efbfbd"},
	{"2-byte lead before ascii", "c241", "efbfbd41", "efbfbd41"},
	{"U+07FF", "dfbf", "dfbf", "dfbf"},
	{"overlong lead c1", "c1bf", "efbfbdefbfbd", "efbfbdefbfbd"},
	{"lone continuation", "80", "efbfbd", "efbfbd"},
	{"continuation before ascii", "bf41", "efbfbd41", "efbfbd41"},
	{"lone 3-byte lead", "e0", "efbfbd", "efbfbd"},
	{"overlong e0 80 at end", "e080", "efbfbdefbfbd", "efbfbdefbfbd"},
	{"overlong 3-byte", "e09f80", "efbfbdefbfbdefbfbd", "efbfbdefbfbdefbfbd"},
	{"U+0800", "e0a080", "e0a080", "e0a080"},
	{"truncated e0 a0 at end", "e0a0", "efbfbd", "efbfbd"},
	{"truncated e0 a0 before ascii", "e0a041", "efbfbd41", "efbfbd41"},
	{"overlong e0 80 before ascii", "e08041", "efbfbdefbfbd41", "efbfbdefbfbd41"},
	{"U+D7FF", "ed9fbf", "ed9fbf", "ed9fbf"},
	{"encoded low surrogate", "edbfbf", "efbfbd", "efbfbd"},
	{"CESU-8 pair is two surrogates", "eda0bdedb880", "efbfbdefbfbd", "efbfbdefbfbd"},
	{"U+E000", "ee8080", "ee8080", "ee8080"},
	{"U+FFFD itself", "efbfbd", "efbfbd", "efbfbd"},
	{"lone 4-byte lead", "f0", "efbfbd", "efbfbd"},
	{"overlong f0 8f at end", "f08f", "efbfbdefbfbd", "efbfbdefbfbd"},
	{"overlong 4-byte", "f08fbfbf", "efbfbdefbfbdefbfbdefbfbd", "efbfbdefbfbdefbfbdefbfbd"},
	{"truncated f0 90 at end", "f090", "efbfbd", "efbfbd"},
	{"U+10000", "f0908080", "eda080edb080", "f0908080"},
	{"truncated f0 90 80 at end", "f09080", "efbfbd", "efbfbd"},
	{"truncated f0 90 80 before ascii", "f0908041", "efbfbd41", "efbfbd41"},
	{"truncated f0 90 before ascii", "f09041", "efbfbd41", "efbfbd41"},
	{"lone f4", "f4", "efbfbd", "efbfbd"},
	{"truncated f4 8f at end", "f48f", "efbfbd", "efbfbd"},
	{"U+10FFFF", "f48fbfbf", "edafbfedbfbf", "f48fbfbf"},
	{"f4 90 above range at end", "f490", "efbfbdefbfbd", "efbfbdefbfbd"},
	{"lone f5", "f5", "efbfbd", "efbfbd"},
	{"lead f5", "f5808080", "efbfbdefbfbdefbfbdefbfbd", "efbfbdefbfbdefbfbdefbfbd"},
	{"lead f7", "f7bfbfbf", "efbfbdefbfbdefbfbdefbfbd", "efbfbdefbfbdefbfbdefbfbd"},
	{"5-byte lead f8", "f8888080", "efbfbdefbfbdefbfbdefbfbd", "efbfbdefbfbdefbfbdefbfbd"},
	{"ff before ascii", "ff41", "efbfbd41", "efbfbd41"},
	{"overlong slash then slash", "c0af2f", "efbfbdefbfbd2f", "efbfbdefbfbd2f"},
	{"U+209F then paren", "e2829f28", "e2829f28", "e2829f28"},
	{"truncated emoji before ascii", "f09f984161", "efbfbd4161", "efbfbd4161"},
}

// Java's UTF-8 decoder (new String(bytes, UTF_8), which jute's readString
// uses) replaces a truncated multi-byte sequence, and a 3-byte encoding of a
// surrogate, with ONE U+FFFD, so a sync of such a path echoes exactly the
// bytes ZooKeeper does. Expected values from the same Java program as
// javaStringOracle.
func TestJavaStringTruncatedSequenceIsOneReplacement(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"truncated 3-byte at end", "e282", "efbfbd"},
		{"truncated 4-byte at end", "f09f98", "efbfbd"},
		{"truncated 3-byte before ascii", "e28241", "efbfbd41"},
		{"truncated 4-byte before ascii", "f09f9841", "efbfbd41"},
		{"path with truncated euro", "2f61e282", "2f61efbfbd"},
		{"encoded surrogate", "eda080", "efbfbd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := hex.DecodeString(c.in)
			require.NoError(t, err)
			require.Equal(t, c.want, hex.EncodeToString([]byte(JavaString(string(in)))))
		})
	}
}

func TestJavaStringMalformedInput(t *testing.T) {
	for _, c := range javaStringMalformedOracle {
		t.Run(c.name, func(t *testing.T) {
			in, err := hex.DecodeString(c.in)
			require.NoError(t, err)
			require.Equal(t, c.jute, hex.EncodeToString([]byte(JavaString(string(in)))), "JavaString")
			require.Equal(t, c.utf8, hex.EncodeToString([]byte(JavaUTF8(string(in)))), "JavaUTF8")
		})
	}
}
