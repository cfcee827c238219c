package auth

import (
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"
)

// X.500 names as Java's X500Principal writes and reads them.

type attributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rdnSET is one relative distinguished name (a SET: encoding/asn1 reads
// slice types named ...SET as SET OF).
type rdnSET []attributeTypeAndValue

// rfc2253Keywords are the attribute keywords X500Principal.getName()
// writes; any other attribute is written as its OID with a #hex value.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

// X500Name returns a DER-encoded name (a certificate's RawSubject) as
// X500Principal.getName() does, in RFC 2253 form: most specific RDN first,
// separated by commas without spaces; multi-valued RDNs joined by '+'; the
// RFC 2253 keywords (CN, C, L, ST, O, OU, STREET, DC, UID) for their
// attributes and dotted OIDs with a #hex DER value for the others; string
// values with , = + < > # ; " \ escaped by a backslash, NUL as \00, and
// leading and trailing spaces escaped.
func X500Name(der []byte) (string, error) {
	var rdns []rdnSET
	rest, err := asn1.Unmarshal(der, &rdns)
	if err != nil {
		return "", err
	}
	if len(rest) > 0 {
		return "", errors.New("trailing data after the name")
	}
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if i != len(rdns)-1 {
			b.WriteByte(',')
		}
		for j, ava := range rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			writeAVA(&b, ava)
		}
	}
	return b.String(), nil
}

func writeAVA(b *strings.Builder, ava attributeTypeAndValue) {
	oid := ava.Type.String()
	kw, ok := rfc2253Keywords[oid]
	val, isString := derString(ava.Value)
	if !ok || !isString {
		if ok {
			b.WriteString(kw)
		} else {
			b.WriteString(oid)
		}
		b.WriteString("=#")
		b.WriteString(hex.EncodeToString(ava.Value.FullBytes))
		return
	}
	b.WriteString(kw)
	b.WriteByte('=')
	var esc []rune
	for _, r := range val {
		switch {
		case strings.ContainsRune(",=+<>#;\"\\", r):
			esc = append(esc, '\\', r)
		case r == 0:
			esc = append(esc, '\\', '0', '0')
		default:
			esc = append(esc, r)
		}
	}
	lead := 0
	for lead < len(esc) && (esc[lead] == ' ' || esc[lead] == '\r') {
		lead++
	}
	trail := len(esc) - 1
	for trail >= 0 && (esc[trail] == ' ' || esc[trail] == '\r') {
		trail--
	}
	for i, r := range esc {
		if i < lead || i > trail {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
}

// derString decodes the directory-string types Java writes as text
// (PrintableString, T61String, IA5String, GeneralString, UTF8String,
// BMPString). Java 17 decodes the bytes of each as UTF-8, whatever the
// type, replacing malformed sequences.
func derString(v asn1.RawValue) (string, bool) {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return "", false
	}
	switch v.Tag {
	case asn1.TagPrintableString, asn1.TagT61String, asn1.TagIA5String, 27, asn1.TagUTF8String, asn1.TagBMPString:
		return javaUTF8(v.Bytes), true
	}
	return "", false
}

// javaUTF8 decodes like Java's String(bytes, UTF_8): each malformed
// sequence (the longest prefix of a well-formed one, or one byte) becomes
// U+FFFD.
func javaUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			n = malformedLen(b)
		}
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}

func malformedLen(b []byte) int {
	need, lo, hi := 0, byte(0x80), byte(0xbf)
	switch c := b[0]; {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c >= 0xe0 && c <= 0xef:
		need = 2
		if c == 0xe0 {
			lo = 0xa0
		} else if c == 0xed {
			hi = 0x9f
		}
	case c >= 0xf0 && c <= 0xf4:
		need = 3
		if c == 0xf0 {
			lo = 0x90
		} else if c == 0xf4 {
			hi = 0x8f
		}
	}
	n := 1
	for n <= need && n < len(b) && b[n] >= lo && b[n] <= hi {
		n++
		lo, hi = 0x80, 0xbf
	}
	return n
}

// x500Keywords are the keywords new X500Principal(String) accepts.
var x500Keywords = map[string]bool{
	"CN": true, "C": true, "L": true, "S": true, "ST": true, "O": true, "OU": true,
	"T": true, "IP": true, "STREET": true, "DC": true, "DNQUALIFIER": true, "DNQ": true,
	"SURNAME": true, "GIVENNAME": true, "INITIALS": true, "GENERATION": true,
	"EMAIL": true, "EMAILADDRESS": true, "UID": true, "SERIALNUMBER": true,
}

// ValidX500Name reports whether s parses as a distinguished name the way
// new X500Principal(s) does (RFC 2253 or RFC 1779 syntax: keywords or
// OIDs, quoted, escaped or #hex values; the empty name is valid).
func ValidX500Name(s string) bool {
	if strings.TrimSpace(s) == "" {
		return true
	}
	p := dnParser{s: s}
	for {
		if !p.ava() {
			return false
		}
		if p.i >= len(p.s) {
			return true
		}
		switch p.s[p.i] {
		case ',', ';', '+':
			p.i++
		default:
			return false
		}
	}
}

type dnParser struct {
	s string
	i int
}

func (p *dnParser) skipSpaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// ava reads "type=value" up to (not including) the next separator.
func (p *dnParser) ava() bool {
	p.skipSpaces()
	eq := strings.IndexByte(p.s[p.i:], '=')
	if eq < 0 {
		return false
	}
	key := strings.TrimSpace(p.s[p.i : p.i+eq])
	if !validAttrType(key) {
		return false
	}
	p.i += eq + 1
	p.skipSpaces()
	if p.i < len(p.s) && p.s[p.i] == '#' {
		return p.hexValue()
	}
	if p.i < len(p.s) && p.s[p.i] == '"' {
		return p.quotedValue()
	}
	return p.stringValue()
}

func validAttrType(key string) bool {
	if key == "" {
		return false
	}
	if x500Keywords[strings.ToUpper(key)] {
		return true
	}
	if len(key) > 4 && strings.EqualFold(key[:4], "OID.") {
		key = key[4:]
	}
	if key == "" || key[0] < '0' || key[0] > '9' {
		return false
	}
	parts := strings.Split(key, ".")
	if len(parts) < 2 {
		return false
	}
	for _, part := range parts {
		if part == "" {
			return false
		}
		for _, c := range part {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

func (p *dnParser) hexValue() bool {
	start := p.i + 1
	p.i = start
	for p.i < len(p.s) && isHex(p.s[p.i]) {
		p.i++
	}
	raw, err := hex.DecodeString(p.s[start:p.i])
	if err != nil || len(raw) == 0 {
		return false
	}
	var v asn1.RawValue
	if rest, err := asn1.Unmarshal(raw, &v); err != nil || len(rest) > 0 {
		return false
	}
	p.skipSpaces()
	return true
}

func (p *dnParser) quotedValue() bool {
	p.i++
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case '\\':
			if !p.escape() {
				return false
			}
			continue
		case '"':
			p.i++
			p.skipSpaces()
			return true
		}
		p.i++
	}
	return false
}

func (p *dnParser) stringValue() bool {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case ',', ';', '+':
			return true
		case '\\':
			if !p.escape() {
				return false
			}
			continue
		case '"', '<', '>':
			return false
		}
		p.i++
	}
	return true
}

// escape reads a backslash and what it escapes: a special character or
// two hex digits.
func (p *dnParser) escape() bool {
	p.i++
	if p.i >= len(p.s) {
		return false
	}
	c := p.s[p.i]
	if strings.IndexByte(",=+<>#;\"\\ ", c) >= 0 {
		p.i++
		return true
	}
	if p.i+1 < len(p.s) && isHex(c) && isHex(p.s[p.i+1]) {
		p.i += 2
		return true
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
