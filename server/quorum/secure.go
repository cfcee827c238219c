package quorum

import (
	"net"
	"strconv"
	"sync"
	"time"
)

// Secure wraps the connections between members, as sslQuorum does with
// TLS (see package ssl). A nil Secure leaves them plain TCP.
type Secure interface {
	// Accepted secures a connection a peer opened to us.
	Accepted(nc net.Conn) (net.Conn, error)
	// Dialed secures a connection we opened to addr.
	Dialed(nc net.Conn, addr string) (net.Conn, error)
}

// SetSecure makes every member connection go through s; call it before
// Start.
func (t *Transport) SetSecure(s Secure) { t.sec = s }

// secureDialed wraps a connection just dialed; on failure the connection
// is closed and nil returned.
func (t *Transport) secureDialed(nc net.Conn, addr string) net.Conn {
	if t.sec == nil || nc == nil {
		return nc
	}
	sc, err := t.sec.Dialed(nc, addr)
	if err != nil {
		nc.Close()
		t.secWarn(addr, "cannot secure a connection to a member; closing it", err)
		return nil
	}
	return sc
}

// secureAccepted wraps an accepted connection; on failure it is closed
// and nil returned.
func (t *Transport) secureAccepted(nc net.Conn) net.Conn {
	if t.sec == nil {
		return nc
	}
	sc, err := t.sec.Accepted(nc)
	if err != nil {
		nc.Close()
		t.secWarn(nc.RemoteAddr().String(), "rejected a connection from a member; closing it", err)
		return nil
	}
	return sc
}

var secWarned sync.Map // "id addr" -> time.Time of the last warning

// secWarn logs a failed handshake, at most once per address every 5 s
// (elections retry every few milliseconds).
func (t *Transport) secWarn(addr, msg string, err error) {
	key := strconv.FormatUint(t.id, 10) + " " + addr
	now := time.Now()
	if last, ok := secWarned.Load(key); ok && now.Sub(last.(time.Time)) < 5*time.Second {
		return
	}
	secWarned.Store(key, now)
	t.log.Warn(msg, "myid", t.id, "peer", addr, "err", err)
}
