//go:build oracle_capture

// This file regenerates the raw captures behind /work/notes/4lw-apache-3.8.0.md:
//
//	go test -tags oracle_capture -run TestCapture4lw -v ./server/internal/oracle/ -capture.out=/work/notes/4lw-apache-3.8.0-raw
//
// It is not part of the normal test run.
package oracle

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

var captureOut = flag.String("capture.out", "", "directory for raw 4lw captures")

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

func connect(t *testing.T, addr string, timeout time.Duration) *zk.Conn {
	c, ev, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(quietLogger{}))
	require.NoError(t, err)
	for e := range ev {
		if e.State == zk.StateHasSession {
			break
		}
	}
	go func() {
		for range ev {
		}
	}()
	return c
}

// rawCmd sends arbitrary bytes and reads until EOF (or 3s).
func rawCmd(addr string, payload []byte) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write(payload); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

type capturer struct {
	t   *testing.T
	dir string
}

func (c capturer) save(name, out string, err error) {
	c.t.Helper()
	if err != nil {
		out += fmt.Sprintf("\n<<read error: %v>>", err)
	}
	require.NoError(c.t, os.MkdirAll(c.dir, 0o755))
	require.NoError(c.t, os.WriteFile(filepath.Join(c.dir, name+".txt"), []byte(out), 0o644))
}

func (c capturer) cmd(addr, cmd string) string {
	out, err := FourLetter(addr, cmd)
	c.save(cmd, out, err)
	return out
}

func TestCapture4lw(t *testing.T) {
	if *captureOut == "" {
		t.Skip("no -capture.out")
	}
	log.SetOutput(io.Discard)
	root := *captureOut

	// --- fresh standalone: no clients, no znodes of ours.
	f := Start(t, Options{})
	fc := capturer{t, filepath.Join(root, "standalone-fresh")}
	for _, cmd := range []string{"ruok", "srvr", "stat", "conf", "cons", "dump", "mntr", "wchs", "wchc", "wchp", "dirs", "isro", "hash"} {
		fc.cmd(f.Addr(), cmd)
	}
	f.Stop()

	// --- standalone with sessions, znodes, ephemerals and watches.
	s := Start(t, Options{Config: map[string]string{"extendedTypesEnabled": "true"}})
	addr := s.Addr()
	a := connect(t, addr, 10*time.Second)
	b := connect(t, addr, 20*time.Second)
	c := connect(t, addr, 30*time.Second)
	acl := zk.WorldACL(zk.PermAll)
	mk := func(conn *zk.Conn, p, d string, flags int32) {
		_, err := conn.Create(p, []byte(d), flags, acl)
		require.NoError(t, err)
	}
	mk(a, "/app", "hello", 0)
	mk(a, "/app/config", "v1", 0)
	mk(a, "/app/workers", "", 0)
	mk(a, "/app/workers/w-", "x", zk.FlagSequence)
	mk(a, "/app/workers/w-", "y", zk.FlagSequence)
	mk(a, "/app/eph-a", "a", zk.FlagEphemeral)
	mk(b, "/app/eph-b1", "b1", zk.FlagEphemeral)
	mk(b, "/app/eph-b2", "b2", zk.FlagEphemeral)
	_, err := a.Set("/app/config", []byte("v2"), -1)
	require.NoError(t, err)
	// Watches. A: data on /app/config, child on /app, exists on a missing node.
	_, _, _, err = a.GetW("/app/config")
	require.NoError(t, err)
	_, _, _, err = a.ChildrenW("/app")
	require.NoError(t, err)
	_, _, _, err = a.ExistsW("/app/missing")
	require.NoError(t, err)
	// B: data on /app/config, exists (data watch) on /app, child on /app/workers.
	_, _, _, err = b.GetW("/app/config")
	require.NoError(t, err)
	_, _, _, err = b.ExistsW("/app")
	require.NoError(t, err)
	_, _, _, err = b.ChildrenW("/app/workers")
	require.NoError(t, err)
	// C: child watch on / only.
	_, _, _, err = c.ChildrenW("/")
	require.NoError(t, err)

	var info strings.Builder
	fmt.Fprintf(&info, "addr=%s\nsessionA=0x%x timeout=10s\nsessionB=0x%x timeout=20s\nsessionC=0x%x timeout=30s\n",
		addr, a.SessionID(), b.SessionID(), c.SessionID())
	fmt.Fprintf(&info, "conf:\n%s", readFileString(filepath.Join(s.Dir(), "zoo.cfg")))
	st := capturer{t, filepath.Join(root, "standalone")}
	st.save("_info", info.String(), nil)
	for _, cmd := range []string{"ruok", "srvr", "stat", "conf", "cons", "dump", "envi", "mntr", "wchs", "wchc", "wchp", "dirs", "isro", "gtmk", "hash"} {
		st.cmd(addr, cmd)
	}
	out, err := FourLetter(addr, "crst")
	st.save("crst", out, err)
	out, err = FourLetter(addr, "cons")
	st.save("cons-after-crst", out, err)
	out, err = FourLetter(addr, "srst")
	st.save("srst", out, err)
	out, err = FourLetter(addr, "srvr")
	st.save("srvr-after-srst", out, err)
	out, err = FourLetter(addr, "mntr")
	st.save("mntr-after-srst", out, err)
	// stmk: 4 bytes + 8-byte big-endian trace mask; set it back to 306 (default).
	out, err = rawCmd(addr, append([]byte("stmk"), 0, 0, 0, 0, 0, 0, 1, 0x32))
	st.save("stmk", out, err)
	for _, unk := range []string{"abcd", "zzzz", "RUOK", "kill"} {
		out, err = rawCmd(addr, []byte(unk))
		st.save("unknown-"+unk, out, err)
	}
	out, err = rawCmd(addr, []byte{0xff, 0xf4, 0xff, 0xfd})
	st.save("telnet-close", out, err)
	// A 4lw on a connection that already carries a session is not a 4lw: skip.

	// hash: the digest log keeps one entry per zxid that is a multiple of 128.
	for i := 0; i < 260; i++ {
		_, err := c.Set("/app", []byte(fmt.Sprint(i)), -1)
		require.NoError(t, err)
	}
	out, err = FourLetter(addr, "hash")
	st.save("hash-after-260-writes", out, err)
	out, err = FourLetter(addr, "srvr")
	st.save("srvr-after-260-writes", out, err)

	a.Close()
	b.Close()
	c.Close()
	time.Sleep(200 * time.Millisecond)
	out, err = FourLetter(addr, "cons")
	st.save("cons-no-clients", out, err)
	out, err = FourLetter(addr, "wchs")
	st.save("wchs-no-watches", out, err)
	out, err = FourLetter(addr, "dump")
	st.save("dump-no-sessions", out, err)
	s.Stop()

	// --- restricted whitelist.
	r := Start(t, Options{Config: map[string]string{"4lw.commands.whitelist": "ruok, stat"}})
	rc := capturer{t, filepath.Join(root, "whitelist-ruok-stat")}
	for _, cmd := range []string{"ruok", "stat", "srvr", "mntr", "conf", "isro", "wchs"} {
		rc.cmd(r.Addr(), cmd)
	}
	out, err = rawCmd(r.Addr(), []byte("abcd"))
	rc.save("unknown-abcd", out, err)
	out, err = rawCmd(r.Addr(), []byte{0xff, 0xf4, 0xff, 0xfd})
	rc.save("telnet-close", out, err)
	r.Stop()

	// --- no whitelist key at all (Apache's default: only srvr).
	d := Start(t, Options{Config: map[string]string{"4lw.commands.whitelist": ""}})
	dc := capturer{t, filepath.Join(root, "whitelist-empty")}
	for _, cmd := range []string{"ruok", "srvr", "stat", "mntr"} {
		dc.cmd(d.Addr(), cmd)
	}
	d.Stop()

	// --- 3-member ensemble.
	e := StartEnsemble(t, 3, Options{})
	leader := e.Leader()
	require.GreaterOrEqual(t, leader, 0)
	follower := (leader + 1) % 3
	ec := connect(t, e.Addr(follower), 10*time.Second)
	_, err = ec.Create("/ens", []byte("data"), 0, acl)
	require.NoError(t, err)
	_, err = ec.Create("/ens/eph", []byte("e"), zk.FlagEphemeral, acl)
	require.NoError(t, err)
	_, _, _, err = ec.GetW("/ens")
	require.NoError(t, err)
	lc := connect(t, e.Addr(leader), 10*time.Second)
	_, _, err = lc.Get("/ens")
	require.NoError(t, err)
	var einfo strings.Builder
	fmt.Fprintf(&einfo, "leader=member %d (myid %d) %s\nfollower=member %d (myid %d) %s\n", leader, leader+1, e.Addr(leader), follower, follower+1, e.Addr(follower))
	fmt.Fprintf(&einfo, "follower client session=0x%x, leader client session=0x%x\n", ec.SessionID(), lc.SessionID())
	fmt.Fprintf(&einfo, "member zoo.cfg:\n%s", readFileString(filepath.Join(e.Member(leader).Dir(), "zoo.cfg")))
	lcap := capturer{t, filepath.Join(root, "ensemble-leader")}
	fcap := capturer{t, filepath.Join(root, "ensemble-follower")}
	lcap.save("_info", einfo.String(), nil)
	for _, cmd := range []string{"srvr", "stat", "mntr", "conf", "cons", "dump", "wchs", "wchc", "wchp", "isro"} {
		lcap.cmd(e.Addr(leader), cmd)
		fcap.cmd(e.Addr(follower), cmd)
	}
	ec.Close()
	lc.Close()

	// A member without a quorum: stop the two others, ask the survivor.
	other := (leader + 2) % 3
	e.Stop(leader)
	e.Stop(follower)
	time.Sleep(500 * time.Millisecond)
	nq := capturer{t, filepath.Join(root, "ensemble-no-quorum")}
	for _, cmd := range []string{"ruok", "srvr", "stat", "mntr", "conf", "cons", "dump", "wchs", "isro", "dirs", "envi"} {
		nq.cmd(e.Addr(other), cmd)
	}
}

// TestCapture4lwReadOnly captures a member that serves read-only clients
// (readonlymode.enabled=true) after losing its quorum.
func TestCapture4lwReadOnly(t *testing.T) {
	if *captureOut == "" {
		t.Skip("no -capture.out")
	}
	e := StartEnsemble(t, 3, Options{JVMArgs: []string{"-Dreadonlymode.enabled=true"}})
	e.Stop(1)
	e.Stop(2)
	require.Eventually(t, func() bool {
		m, _ := e.Mode(0)
		return m == "read-only"
	}, 60*time.Second, 100*time.Millisecond)
	ro := capturer{t, filepath.Join(*captureOut, "ensemble-read-only")}
	for _, cmd := range []string{"srvr", "stat", "isro", "mntr", "conf", "cons", "dump", "wchs"} {
		ro.cmd(e.Addr(0), cmd)
	}
}

func readFileString(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
