package admin

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The AdminServer's answers are written as Apache's JsonOutputter writes
// them: Jackson's default pretty printer over insertion-ordered maps
// (LinkedHashMap), Java's number formats. jsonObj keeps the order; the
// printer reproduces Jackson's layout byte for byte ("key" : value, two
// spaces per object level, arrays on one line, "{ }" and "[ ]" when empty,
// no final line end).

// jsonObj is an insertion-ordered JSON object (a LinkedHashMap).
type jsonObj []jsonField

type jsonField struct {
	k string
	v any
}

// put sets k: in place when present (LinkedHashMap.put keeps the first
// position), else at the end.
func (o *jsonObj) put(k string, v any) {
	for i := range *o {
		if (*o)[i].k == k {
			(*o)[i].v = v
			return
		}
	}
	*o = append(*o, jsonField{k, v})
}

// get returns k's value.
func (o jsonObj) get(k string) (any, bool) {
	for _, f := range o {
		if f.k == k {
			return f.v, true
		}
	}
	return nil, false
}

// jsonNum is a number already in Java's text form (Long.toString or
// Double.toString), written as is.
type jsonNum string

// jsonDouble is a Java double, written as Double.toString writes it
// (Jackson writes NaN and infinities as strings).
type jsonDouble float64

// marshalJSON writes v as Jackson's default pretty printer does.
func marshalJSON(v any) []byte {
	var b strings.Builder
	writeJSON(&b, v, 0)
	return []byte(b.String())
}

func indent(b *strings.Builder, depth int) {
	for i := 0; i < depth; i++ {
		b.WriteString("  ")
	}
}

// writeJSON writes v; depth is the number of objects around it.
func writeJSON(b *strings.Builder, v any, depth int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJSONString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case jsonNum:
		b.WriteString(string(x))
	case jsonDouble:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			writeJSONString(b, javaDouble(f))
		} else {
			b.WriteString(javaDouble(f))
		}
	case float64:
		writeJSON(b, jsonDouble(x), depth)
	case jsonObj:
		if len(x) == 0 {
			b.WriteString("{ }")
			return
		}
		b.WriteString("{")
		for i, f := range x {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n")
			indent(b, depth+1)
			writeJSONString(b, f.k)
			b.WriteString(" : ")
			writeJSON(b, f.v, depth+1)
		}
		b.WriteString("\n")
		indent(b, depth)
		b.WriteString("}")
	case []any:
		if len(x) == 0 {
			b.WriteString("[ ]")
			return
		}
		b.WriteString("[ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e, depth)
		}
		b.WriteString(" ]")
	case []string:
		writeJSON(b, toAnys(x), depth)
	case []int64:
		writeJSON(b, toAnys(x), depth)
	case []int:
		writeJSON(b, toAnys(x), depth)
	default:
		panic("admin: no JSON form for a value of this type")
	}
}

func toAnys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// writeJSONString quotes s as Jackson does: '"' and '\' escaped, control
// characters as \b \t \n \f \r or \u00XX, everything else (non-ASCII and
// '/' included) as it is.
func writeJSONString(b *strings.Builder, s string) {
	const hexDigits = "0123456789ABCDEF"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\uFFFD")
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	b.WriteByte('"')
}
