package ensembletest

import (
	"encoding/binary"
	"math/rand"
	"testing"
)

// The tap must find every reply header however the stream is split.
func TestTapParsesFramesAcrossReads(t *testing.T) {
	frame := func(body []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	}
	var stream []byte
	// Connect response: protocol version, timeout, session id, password.
	cr := binary.BigEndian.AppendUint32(nil, 0)
	cr = binary.BigEndian.AppendUint32(cr, 4000)
	cr = binary.BigEndian.AppendUint64(cr, 0x1234)
	cr = append(binary.BigEndian.AppendUint32(cr, 16), make([]byte, 16)...)
	stream = append(stream, frame(cr)...)
	type hdr struct {
		xid  int32
		zxid int64
	}
	var want []hdr
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		h := hdr{xid: int32(i + 1), zxid: int64(100 + i)}
		switch i % 7 {
		case 3:
			h.xid = -2 // ping
		case 5:
			h.xid, h.zxid = -1, -1 // watch event
		}
		body := binary.BigEndian.AppendUint32(nil, uint32(h.xid))
		body = binary.BigEndian.AppendUint64(body, uint64(h.zxid))
		body = binary.BigEndian.AppendUint32(body, 0)
		body = append(body, make([]byte, rng.Intn(40))...)
		stream = append(stream, frame(body)...)
		if h.xid != -1 {
			want = append(want, h)
		}
	}
	for trial := 0; trial < 50; trial++ {
		s := &Session{}
		c := &tapConn{s: s, first: true}
		var lastReply int64
		for b := stream; len(b) > 0; {
			n := 1 + rng.Intn(min(len(b), 30))
			c.feed(b[:n])
			b = b[n:]
		}
		for _, h := range want {
			if h.xid >= 0 {
				lastReply = h.zxid
			}
		}
		if s.sessionID != 0x1234 || s.maxZxid != want[len(want)-1].zxid || s.lastReply != lastReply || len(s.violations) > 0 {
			t.Fatalf("trial %d: session 0x%x max 0x%x last reply 0x%x violations %v", trial, s.sessionID, s.maxZxid, s.lastReply, s.violations)
		}
	}
}
