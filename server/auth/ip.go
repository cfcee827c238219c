package auth

import (
	"net"
	"strconv"
	"strings"

	"zkit/server/proto"
)

// IPProvider is the "ip" scheme: every connection carries its client
// address, and an ACL id is an address or an address/prefix-bits range.
type IPProvider struct{}

// Scheme implements Provider.
func (IPProvider) Scheme() string { return "ip" }

// Authenticate implements Provider.
func (IPProvider) Authenticate(_ []byte, remoteIP string) []proto.Id {
	return []proto.Id{{Scheme: "ip", ID: remoteIP}}
}

// Authenticated implements Provider: an address is not a user.
func (IPProvider) Authenticated() bool { return false }

// Valid implements Provider.
func (IPProvider) Valid(id string) bool {
	addr, bits, hasBits := strings.Cut(id, "/")
	b := ipBytes(addr)
	if b == nil {
		return false
	}
	if hasBits {
		n, err := strconv.Atoi(bits)
		return err == nil && n >= 0 && n <= len(b)*8
	}
	return true
}

// Matches implements Provider.
func (IPProvider) Matches(id, aclID string) bool {
	addr, bitsText, hasBits := strings.Cut(aclID, "/")
	want := ipBytes(addr)
	if want == nil {
		return false
	}
	bits := len(want) * 8
	if hasBits {
		n, err := strconv.Atoi(bitsText)
		if err != nil || n < 0 || n > bits {
			return false
		}
		bits = n
	}
	got := ipBytes(id)
	if len(got) != len(want) {
		return false
	}
	mask := net.CIDRMask(bits, len(want)*8)
	for i := range want {
		if want[i]&mask[i] != got[i]&mask[i] {
			return false
		}
	}
	return true
}

// UserName implements Provider.
func (IPProvider) UserName(id string) string { return id }

// ipBytes parses an IPv4 (4 bytes) or IPv6 (16 bytes) address.
func ipBytes(s string) []byte {
	ip := net.ParseIP(s)
	if ip == nil {
		return nil
	}
	if strings.Contains(s, ":") {
		return ip.To16()
	}
	return ip.To4()
}
