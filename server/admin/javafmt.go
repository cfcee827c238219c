package admin

import (
	"math"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Value formats of Apache's output, which Java's library decides.

// formatLong is Long.toString.
func formatLong(n int64) string { return strconv.FormatInt(n, 10) }

// hex is "0x" + Long.toHexString: lower case, no padding, two's complement
// for negative numbers.
func hex(n int64) string { return "0x" + strconv.FormatUint(uint64(n), 16) }

// javaDouble is Double.toString: the shortest digits that read back as f,
// with at least one digit after the point, in computerized scientific
// notation ("5.0E-4", "1.0E7") outside [1e-3, 1e7).
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 5E-04, 1.5E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// avg4 is AvgMinMaxCounter.getAvg: total/count rounded HALF_UP to four
// decimals (BigDecimal of the exact double), 0 without samples.
func avg4(total, count int64) float64 {
	if count <= 0 {
		return 0
	}
	avg := float64(total) / float64(count)
	r := new(big.Rat).SetFloat64(avg)
	if r == nil {
		return avg
	}
	neg := r.Sign() < 0
	r.Abs(r)
	r.Mul(r, big.NewRat(10000, 1))
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // floor, r >= 0
	if neg {
		q.Neg(q)
	}
	out, _ := new(big.Rat).SetFrac(q, big.NewInt(10000)).Float64()
	return out
}

// javaDate is java.util.Date.toString: "EEE MMM dd HH:mm:ss zzz yyyy" in
// the local time zone.
func javaDate(ms int64) string {
	t := time.UnixMilli(ms).In(time.Local)
	zone, off := t.Zone()
	if zone == "" || zone[0] == '+' || zone[0] == '-' {
		// Java names a zone without an abbreviation by its offset.
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		zone = "GMT" + string(sign) + pad2(off/3600) + ":" + pad2(off%3600/60)
	}
	return t.Format("Mon Jan 02 15:04:05 ") + zone + t.Format(" 2006")
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// javaAddr is InetSocketAddress.toString of a connected socket's peer:
// "/" + address + ":" + port, IPv6 in Java's uncompressed form.
func javaAddr(hostport string) string {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return "/" + hostport
	}
	a := ap.Addr().Unmap()
	host := a.String()
	if a.Is6() {
		b := a.As16()
		groups := make([]string, 8)
		for i := range groups {
			groups[i] = strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16)
		}
		host = strings.Join(groups, ":")
		if z := a.Zone(); z != "" {
			host += "%" + z
		}
	}
	return "/" + host + ":" + strconv.Itoa(int(ap.Port()))
}
