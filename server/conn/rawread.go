package conn

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"syscall"
)

// rawReader reads the requests of a plain TCP connection inside one long
// RawConn.Read call. The usual net.Conn.Read makes a read system call that
// returns EAGAIN every time the socket has been drained, before it parks
// the goroutine: each Read call starts by forgetting readiness it has not
// seen yet, so it must try the socket first. Within one RawConn.Read, a
// read that returned less than it could take has drained the socket, and
// data arriving later brings a readiness notification that nothing resets:
// the goroutine parks at once, with one read system call per burst of
// requests instead of two.
//
// The requests are handled inside the call, so a Close of the connection
// waits for the handler in progress to return (its socket writes fail at
// once); the loop checks for a close before each read.
type rawReader struct {
	c    *Conn
	buf  []byte
	r, w int    // buf[r:w] is read and not yet framed
	big  []byte // a frame larger than buf being read into its own slice
	bigN int    // bytes of big read so far
}

// serveRaw serves requests until the connection ends; pending is what the
// handshake's reader had buffered past the connect request.
func (c *Conn) serveRaw(rc syscall.RawConn, r *bufio.Reader) error {
	rd := &rawReader{c: c, buf: make([]byte, 64<<10)}
	if n := r.Buffered(); n > 0 {
		pending, _ := r.Peek(n)
		if n > len(rd.buf) {
			rd.buf = make([]byte, n)
		}
		rd.w = copy(rd.buf, pending)
	}
	var ferr error
	err := rc.Read(func(fd uintptr) bool {
		var done bool
		done, ferr = rd.step(int(fd))
		return done
	})
	if ferr != nil {
		return ferr
	}
	return err
}

// step frames and handles what is buffered and reads the socket until it is
// drained (done false: wait for readiness) or the connection ends.
func (rd *rawReader) step(fd int) (done bool, err error) {
	for {
		if err := rd.frames(); err != nil {
			return true, err
		}
		select {
		case <-rd.c.closed:
			return true, errClose
		default:
		}
		dst := rd.buf[rd.w:]
		if rd.big != nil {
			dst = rd.big[rd.bigN:]
		}
		n, err := rawIO(syscall.SYS_READ, uintptr(fd), dst)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false, nil
		case err != nil:
			return true, os.NewSyscallError("read", err)
		case n == 0:
			return true, io.EOF
		}
		if rd.big != nil {
			rd.bigN += n
		} else {
			rd.w += n
		}
		if n < len(dst) {
			// The socket is drained: handle what came, then wait.
			if err := rd.frames(); err != nil {
				return true, err
			}
			return false, nil
		}
	}
}

// frames handles every complete frame buffered, then keeps the start of an
// incomplete one at the front of the buffer.
func (rd *rawReader) frames() error {
	c := rd.c
	if rd.big != nil {
		if rd.bigN < len(rd.big) {
			return nil
		}
		body := rd.big
		rd.big, rd.bigN = nil, 0
		c.srv.Stats.PacketsReceived.Add(1)
		if err := c.handle(body); err != nil {
			return err
		}
	}
	for rd.w-rd.r >= 4 {
		n := int32(binary.BigEndian.Uint32(rd.buf[rd.r:]))
		if err := c.checkLen(n); err != nil {
			return err
		}
		if rd.w-rd.r-4 < int(n) {
			if 4+int(n) > len(rd.buf) {
				rd.big = make([]byte, n)
				rd.bigN = copy(rd.big, rd.buf[rd.r+4:rd.w])
				rd.r, rd.w = 0, 0
				return nil
			}
			break
		}
		body := make([]byte, n)
		copy(body, rd.buf[rd.r+4:])
		rd.r += 4 + int(n)
		c.srv.Stats.PacketsReceived.Add(1)
		if err := c.handle(body); err != nil {
			return err
		}
	}
	if rd.r > 0 {
		rd.w = copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.r = 0
	}
	return nil
}
