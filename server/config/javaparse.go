package config

import (
	"fmt"
	"strconv"
	"strings"
)

// This file mirrors the few java.lang parsers Apache ZooKeeper applies to
// config values, so that zkit accepts and rejects exactly the same strings.

// javaTrim is String.trim: it strips every char <= ' ' at both ends.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

// javaSplit is String.split for a one-char literal separator: trailing
// empty strings are dropped, but "" splits into [""].
func javaSplit(s, sep string) []string {
	if s == "" {
		return []string{""}
	}
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseInt is Integer.parseInt: an optional sign and decimal digits that
// fit in 32 bits.
func parseInt(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, numError(s, "an integer", err)
	}
	return int(n), nil
}

// parseLong is Long.parseLong with the given radix.
func parseLong(s string, base int) (int64, error) {
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		what := "an integer"
		if base == 16 {
			what = "a hexadecimal number"
		}
		return 0, numError(s, what, err)
	}
	return n, nil
}

func numError(s, what string, err error) error {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return fmt.Errorf("%q is out of range", s)
	}
	return fmt.Errorf("%q is not %s", s, what)
}

// decodeInt is Integer.decode, which Integer.getInteger uses for the
// system-property settings: an optional sign, then 0x, 0X or # for hex, a
// leading 0 for octal, else decimal; 32 bits.
func decodeInt(s string) (int, error) {
	digits, neg := s, false
	if strings.HasPrefix(digits, "-") || strings.HasPrefix(digits, "+") {
		digits, neg = digits[1:], digits[0] == '-'
	}
	base := 10
	switch {
	case strings.HasPrefix(digits, "0x"), strings.HasPrefix(digits, "0X"):
		digits, base = digits[2:], 16
	case strings.HasPrefix(digits, "#"):
		digits, base = digits[1:], 16
	case strings.HasPrefix(digits, "0") && len(digits) > 1:
		digits, base = digits[1:], 8
	}
	if digits == "" || digits[0] == '-' || digits[0] == '+' {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	if neg {
		digits = "-" + digits
	}
	n, err := strconv.ParseInt(digits, base, 32)
	if err != nil {
		return 0, numError(s, "an integer", err)
	}
	return int(n), nil
}

// parseBool is QuorumPeerConfig.parseBoolean: "true" or "false", any case.
func parseBool(s string) (bool, error) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want true or false)", s)
}

// parsePort is Integer.parseInt followed by the range check of
// java.net.InetSocketAddress.
func parsePort(s string) (int, error) {
	n, err := parseInt(s)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 65535 {
		return 0, fmt.Errorf("port %d is out of range (0-65535)", n)
	}
	return n, nil
}
