package member

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"zkit/server/internal/zkclient"
	"zkit/server/jute"
	"zkit/server/proto"
)

var recordCorpus = flag.Bool("record-corpus", false, "record real client traffic into testdata/fuzz/FuzzClientStream")

var (
	fuzzOnce   sync.Once
	fuzzServer *Server
)

// sharedServer is one server for all fuzz inputs of a process.
func sharedServer(t testing.TB) *Server {
	fuzzOnce.Do(func() {
		fuzzServer = New(Options{ClientAddr: "127.0.0.1:0", TickTime: 200 * time.Millisecond, ExtendedTypes: true})
		if err := fuzzServer.Start(); err != nil {
			t.Fatal(err)
		}
	})
	return fuzzServer
}

// handshake opens a session on a raw connection.
func handshake(t testing.TB, addr string) net.Conn {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	e := jute.NewEncoder(make([]byte, 4))
	(&proto.ConnectRequest{TimeOut: 2000, Passwd: make([]byte, 16)}).Encode(e)
	b := e.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	_, err = nc.Write(b)
	require.NoError(t, err)
	_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	var lb [4]byte
	_, err = io.ReadFull(nc, lb[:])
	require.NoError(t, err)
	_, err = io.ReadFull(nc, make([]byte, binary.BigEndian.Uint32(lb[:])))
	require.NoError(t, err)
	return nc
}

// FuzzClientStream sends arbitrary bytes after a handshake, as a hostile
// or broken client would. The server may answer or close that connection,
// but must keep serving everyone else.
func FuzzClientStream(f *testing.F) {
	f.Add([]byte{0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 3})    // exists with no body
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})                // a length over jute.maxbuffer
	f.Add([]byte{0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5}) // a negative length
	f.Fuzz(func(t *testing.T, stream []byte) {
		s := sharedServer(t)
		nc := handshake(t, s.Addr().String())
		defer nc.Close()
		_, _ = nc.Write(stream)
		_ = nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, _ = io.Copy(io.Discard, nc)
		// Someone else is still served.
		c, err := zkclient.Connect(s.Addr().String(), zkclient.Options{Timeout: 2 * time.Second})
		require.NoError(t, err)
		var st proto.StatResponse
		h, err := c.Call(proto.OpExists, &proto.PathWatchRequest{Path: "/"}, &st)
		require.NoError(t, err)
		require.Equal(t, proto.ErrOK, h.Err)
		c.Drop()
	})
}

// TestMain with -record-corpus refreshes the seeds of FuzzClientStream
// instead of running tests: go test ./server/member -record-corpus.
func TestMain(m *testing.M) {
	flag.Parse()
	if *recordCorpus {
		if err := recordClientTraffic(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// recordClientTraffic captures what a real client (go-zookeeper) sends
// after its handshake and stores each frame as a seed.
func recordClientTraffic() error {
	s := New(Options{ClientAddr: "127.0.0.1:0", TickTime: 200 * time.Millisecond, ExtendedTypes: true})
	if err := s.Start(); err != nil {
		return err
	}
	defer s.Stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	captured := make(chan []byte, 1)
	go func() {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			return
		}
		go func() { _, _ = io.Copy(client, server) }()
		var all []byte
		buf := make([]byte, 65536)
		for {
			n, err := client.Read(buf)
			all = append(all, buf[:n]...)
			if _, werr := server.Write(buf[:n]); werr != nil || err != nil {
				break
			}
		}
		captured <- all
	}()
	c, _, err := zk.Connect([]string{ln.Addr().String()}, 2*time.Second, zk.WithLogInfo(false))
	if err != nil {
		return err
	}
	acl := zk.WorldACL(zk.PermAll)
	_, _ = c.Create("/r", []byte("data"), 0, acl)
	_, _, _, _ = c.GetW("/r")
	_, _ = c.Set("/r", []byte("more"), -1)
	_, _, _, _ = c.ChildrenW("/")
	_, _ = c.CreateProtectedEphemeralSequential("/r/e-", nil, acl)
	_, _ = c.Multi(&zk.CreateRequest{Path: "/r/m", Acl: acl}, &zk.CheckVersionRequest{Path: "/r", Version: 1})
	_, _ = c.Sync("/r")
	_ = c.AddAuth("digest", []byte("u:p"))
	_, _, _ = c.GetACL("/r")
	_ = c.Delete("/r/m", -1)
	c.Close()
	stream := <-captured
	// Drop the connect request: the fuzz target does its own handshake.
	n := binary.BigEndian.Uint32(stream)
	stream = stream[4+n:]
	dir := filepath.Join("testdata", "fuzz", "FuzzClientStream")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := 0; len(stream) >= 4; i++ {
		n := binary.BigEndian.Uint32(stream)
		end := int(4 + n)
		if end > len(stream) {
			break
		}
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", stream[:end])
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gozk-%02d", i)), []byte(seed), 0o644); err != nil {
			return err
		}
		stream = stream[end:]
	}
	fmt.Println("seeds written to", dir)
	return nil
}
