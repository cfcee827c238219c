package auth

import (
	"strings"
	"unicode"

	"zkit/server/proto"
)

// IPProvider is the "ip" scheme: every connection carries its client
// address, and an ACL id is an address or an address/prefix-bits range.
//
// Addresses are read as ZooKeeper's IPAuthenticationProvider reads them,
// not as net.ParseIP does: an id with a ':' is IPv6, else one with a '.' is
// IPv4, and every number goes through Java's Integer.parseInt, so
// "010.0.0.1", "+10.0.0.1" and "10.0.0.1/08" are valid and 10.0.0.01 is
// 10.0.0.1. ZooKeeper 3.8 has no IPv6 here at all (every IPv6 id is
// invalid); zkit accepts IPv6 as ZooKeeper 3.9.4 does (ZOOKEEPER-4240):
// 8 groups of at most 4 characters, one "::" at most, no embedded IPv4.
type IPProvider struct{}

// Scheme implements Provider.
func (IPProvider) Scheme() string { return "ip" }

// Authenticate implements Provider.
func (IPProvider) Authenticate(_ []byte, remoteIP string) []proto.Id {
	return []proto.Id{{Scheme: "ip", ID: remoteIP}}
}

// Authenticated implements Provider: an address is not a user.
func (IPProvider) Authenticated() bool { return false }

// Valid implements Provider (IPAuthenticationProvider.isValid).
func (IPProvider) Valid(id string) bool {
	addr, bits, hasBits := strings.Cut(id, "/")
	b := ipBytes(addr)
	if b == nil {
		return false
	}
	if hasBits {
		_, ok := prefixBits(bits, len(b))
		return ok
	}
	return true
}

// Matches implements Provider (IPAuthenticationProvider.matches): the
// client address and the ACL address, both masked to the ACL's prefix,
// are equal and of the same family.
func (IPProvider) Matches(id, aclID string) bool {
	addr, bitsText, hasBits := strings.Cut(aclID, "/")
	want := ipBytes(addr)
	if want == nil {
		return false
	}
	bits := len(want) * 8
	if hasBits {
		n, ok := prefixBits(bitsText, len(want))
		if !ok {
			return false
		}
		bits = n
	}
	got := ipBytes(id)
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		m := maskByte(bits, i)
		if want[i]&m != got[i]&m {
			return false
		}
	}
	return true
}

// maskByte returns byte i of a mask of the first bits bits.
func maskByte(bits, i int) byte {
	switch n := bits - 8*i; {
	case n >= 8:
		return 0xff
	case n <= 0:
		return 0
	default:
		return ^byte(0xff >> n)
	}
}

// prefixBits parses the prefix length after the '/': Integer.parseInt,
// between 0 and the address's bit count.
func prefixBits(s string, addrLen int) (int, bool) {
	n, ok := javaParseInt(s, 10)
	if !ok || n < 0 || n > int64(addrLen)*8 {
		return 0, false
	}
	return int(n), true
}

// UserName implements Provider.
func (IPProvider) UserName(id string) string { return id }

// ipBytes parses an ACL address as addr2Bytes does: IPv6 (16 bytes) when it
// has a ':', else IPv4 (4 bytes) when it has a '.', else nil.
func ipBytes(s string) []byte {
	switch {
	case strings.Contains(s, ":"):
		return v6Bytes(s)
	case strings.Contains(s, "."):
		return v4Bytes(s)
	}
	return nil
}

// v4Bytes is v4addr2Bytes: exactly four '.'-separated parts, each an
// Integer.parseInt value from 0 to 255.
func v4Bytes(s string) []byte {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return nil
	}
	b := make([]byte, 4)
	for i, p := range parts {
		v, ok := javaParseInt(p, 10)
		if !ok || v < 0 || v > 255 {
			return nil
		}
		b[i] = byte(v)
	}
	return b
}

// v6Bytes is ZooKeeper 3.9.4's parseV6addr: 8 ':'-separated groups, or
// fewer around one "::" that stands for at least one zero group; each group
// is 1 to 4 UTF-16 chars read with Integer.parseInt(group, 16), whose low
// 16 bits are kept (so "-1" is ffff).
func v6Bytes(s string) []byte {
	var head, tail []string
	switch parts := strings.Split(s, "::"); len(parts) {
	case 1:
		head = strings.Split(s, ":")
		if len(head) != 8 {
			return nil
		}
	case 2:
		if parts[0] != "" {
			head = strings.Split(parts[0], ":")
		}
		if parts[1] != "" {
			tail = strings.Split(parts[1], ":")
		}
		if len(head)+len(tail) >= 8 {
			return nil
		}
	default:
		return nil
	}
	b := make([]byte, 16)
	if !putV6Groups(b, head) || !putV6Groups(b[16-2*len(tail):], tail) {
		return nil
	}
	return b
}

// putV6Groups writes groups into b, two bytes each.
func putV6Groups(b []byte, groups []string) bool {
	for i, g := range groups {
		if g == "" || javaLen(g) > 4 {
			return false
		}
		v, ok := javaParseInt(g, 16)
		if !ok {
			return false
		}
		b[2*i], b[2*i+1] = byte(v>>8), byte(v)
	}
	return true
}

// javaLen is String.length: the number of UTF-16 chars.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xffff {
			n++
		}
	}
	return n
}

// javaParseInt is Integer.parseInt(s, radix): an optional '+' or '-', then
// at least one digit as Character.digit reads it, within int's range.
func javaParseInt(s string, radix int) (int64, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var v int64
	for _, r := range s {
		d := javaDigit(r, radix)
		if d < 0 {
			return 0, false
		}
		v = v*int64(radix) + int64(d)
		if v > 1<<31 {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	if v > 1<<31-1 {
		return 0, false
	}
	return v, true
}

// javaDigit is Character.digit(char, radix) for radix 10 or 16: any
// Unicode decimal digit in the BMP, and for hex the Latin letters a-f in
// ASCII or fullwidth form; -1 otherwise. A character outside the BMP is
// two chars to Java, neither of them a digit.
func javaDigit(r rune, radix int) int {
	d := -1
	switch {
	case r > 0xffff:
		return -1
	case r >= '0' && r <= '9':
		d = int(r - '0')
	case unicode.IsDigit(r):
		d = ndValue(r)
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		d = int(unicode.ToLower(r)-'a') + 10
	case r >= 0xff21 && r <= 0xff3a:
		d = int(r-0xff21) + 10
	case r >= 0xff41 && r <= 0xff5a:
		d = int(r-0xff41) + 10
	}
	if d >= radix {
		return -1
	}
	return d
}

// ndValue is the value of a decimal digit: Unicode lays each set of digits
// out as a run from 0 to 9, and unicode.Nd's ranges start at a zero.
func ndValue(r rune) int {
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return -1
}
