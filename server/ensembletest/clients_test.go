package ensembletest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// memberOfSession finds the member whose cons lists the session.
func memberOfSession(c *Procs, sid int64) (uint64, bool) {
	want := fmt.Sprintf("sid=0x%x,", sid)
	for _, id := range c.IDs() {
		if !c.Member(id).Running() {
			continue
		}
		out, err := FourLetter(c.ClientAddr(id), "cons", time.Second)
		if err == nil && strings.Contains(out, want) {
			return id, true
		}
	}
	return 0, false
}

func waitMemberOfSession(t *testing.T, c *Procs, sid int64, not uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if id, ok := memberOfSession(c, sid); ok && id != not {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("no member (other than %d) holds session 0x%x", not, sid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pinned(t *testing.T, c *Procs, id uint64) *Session {
	t.Helper()
	s, err := Dial(fmt.Sprintf("pinned-%d", id), []string{c.ClientAddr(id)}, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.WaitConnected(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	return s
}

func expectEvent(t *testing.T, ch <-chan zk.Event, typ zk.EventType, path string) {
	t.Helper()
	select {
	case ev := <-ch:
		if ev.Type != typ || ev.Path != path {
			t.Fatalf("watch: got %v on %q, want %v on %q", ev.Type, ev.Path, typ, path)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("watch: no %v event on %s within 10s", typ, path)
	}
}

// TestGoClientReconnectsToAnotherMember: a go-zookeeper session with
// watches and an ephemeral; the member it is connected to is killed; the
// client resumes the same session on another member, its watches fire for
// changes made after the kill, its ephemeral survives, and no reply zxid
// goes backwards.
func TestGoClientReconnectsToAnotherMember(t *testing.T) {
	c := StartProcs(t, ProcOptions{Voters: 3})
	leader, _ := c.WaitLeader(10 * time.Second)
	// Start on a follower, so that the kill does not also cost a leader.
	var order []string
	for _, id := range append(c.Followers(leader), leader) {
		order = append(order, c.ClientAddr(id))
	}
	s, err := Dial("go-client", order, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WaitConnected(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	zc := s.Conn
	acl := zk.WorldACL(zk.PermAll)
	if _, err := zc.Create("/gz", []byte("v0"), 0, acl); err != nil {
		t.Fatal(err)
	}
	if _, err := zc.Create("/gz-eph", []byte("e"), zk.FlagEphemeral, acl); err != nil {
		t.Fatal(err)
	}
	_, _, dataW, err := zc.GetW("/gz")
	if err != nil {
		t.Fatal(err)
	}
	_, _, childW, err := zc.ChildrenW("/gz")
	if err != nil {
		t.Fatal(err)
	}
	_, _, existW, err := zc.ExistsW("/gz-new")
	if err != nil {
		t.Fatal(err)
	}
	sid := zc.SessionID()
	first := waitMemberOfSession(t, c, sid, 0)
	if c.ClientAddr(first) != order[0] {
		t.Fatalf("session on member %d, expected the first in its list (%s)", first, order[0])
	}
	c.Kill(first)
	second := waitMemberOfSession(t, c, sid, first)
	t.Logf("session 0x%x moved from member %d to member %d", sid, first, second)
	if zc.SessionID() != sid {
		t.Fatalf("session changed: 0x%x → 0x%x", sid, zc.SessionID())
	}
	// Changes made elsewhere after the kill fire the watches.
	var third uint64
	for _, id := range c.Voters() {
		if id != first && id != second {
			third = id
		}
	}
	other := pinned(t, c, third)
	if _, err := other.Conn.Set("/gz", []byte("v1"), -1); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, dataW, zk.EventNodeDataChanged, "/gz")
	if _, err := other.Conn.Create("/gz/child", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, childW, zk.EventNodeChildrenChanged, "/gz")
	if _, err := other.Conn.Create("/gz-new", nil, 0, acl); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, existW, zk.EventNodeCreated, "/gz-new")
	// The session reads its own and others' writes on its new member.
	if d, _, err := zc.Get("/gz"); err != nil || string(d) != "v1" {
		t.Fatalf("get /gz on member %d: %q %v", second, d, err)
	}
	if _, err := zc.Set("/gz", []byte("v2"), -1); err != nil {
		t.Fatal(err)
	}
	if d, _, err := zc.Get("/gz"); err != nil || string(d) != "v2" {
		t.Fatalf("read-your-write: %q %v", d, err)
	}
	// The ephemeral survived.
	if _, st, err := other.Conn.Get("/gz-eph"); err != nil || st.EphemeralOwner != sid {
		t.Fatalf("ephemeral after the reconnect: %+v %v", st, err)
	}
	// The killed member comes back and catches up.
	if err := c.Start(first); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	back := pinned(t, c, first)
	if _, err := back.Conn.Sync("/gz"); err != nil {
		t.Fatal(err)
	}
	if d, _, err := back.Conn.Get("/gz"); err != nil || string(d) != "v2" {
		t.Fatalf("restarted member: %q %v", d, err)
	}
	// Closing the session removes the ephemeral everywhere.
	s.Close()
	for _, p := range []*Session{other, back} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, _ = p.Conn.Sync("/gz-eph")
			ok, _, err := p.Conn.Exists("/gz-eph")
			if err == nil && !ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /gz-eph still there after its session closed", p.Name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, p := range []*Session{s, other, back} {
		for _, v := range p.Violations() {
			t.Errorf("reply zxid went backwards: %s", v)
		}
	}
}

const zkCli = "/usr/share/zookeeper/bin/zkCli.sh"

// installHint is what scripts/deps.sh installs for the tests that run
// Apache ZooKeeper's server and clients. They fail, not skip, when it is
// missing (as server/internal/oracle and server/clitest do).
const installHint = "apt-get install -y zookeeper zookeeper-bin default-jre-headless (scripts/deps.sh)"

func needFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v; install it: %s", err, installHint)
	}
}

func needJava(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("java not found (%v); install it: %s", err, installHint)
	}
}

func needZkCli(t testing.TB) {
	t.Helper()
	needFile(t, zkCli)
	needJava(t)
}

// TestZkCliSession: Apache's zkCli.sh against the ensemble — create, get,
// set, ls, stat, a watch, an ephemeral; then the member it is connected to
// is killed and the same session carries on on another member.
func TestZkCliSession(t *testing.T) {
	needZkCli(t)
	c := StartProcs(t, ProcOptions{Voters: 3})
	leader, _ := c.WaitLeader(10 * time.Second)
	// The Java client shuffles its hosts: list only the followers, so that
	// killing the one it uses leaves the other (and the leader) up.
	var hosts []string
	for _, id := range c.Followers(leader) {
		hosts = append(hosts, c.ClientAddr(id))
	}
	env := append(os.Environ(), "CLIENT_JVMFLAGS=-Dzookeeper.jute.maxbuffer=1048575")
	cli := StartInteractive(t, "zkCli.sh", env, zkCli, "-server", strings.Join(hosts, ","))
	const slow = 30 * time.Second
	cli.MustExpect(`state:SyncConnected`, slow)
	cli.Send("create /zcli hello")
	cli.MustExpect(`^Created /zcli$`, slow)
	cli.Send("get /zcli")
	cli.MustExpect(`^hello$`, slow)
	cli.Send("set -s /zcli world")
	cli.MustExpect(`^dataVersion = 1$`, slow)
	cli.Send("create -e /zcli-eph e")
	cli.MustExpect(`^Created /zcli-eph$`, slow)
	cli.Send("ls /")
	cli.MustExpect(`^\[.*zcli.*\]$`, slow)
	cli.Send("stat /zcli-eph")
	owner := cli.MustExpect(`^ephemeralOwner = (0x[0-9a-f]+)$`, slow)[1]
	sid, err := strconv.ParseInt(strings.TrimPrefix(owner, "0x"), 16, 64)
	if err != nil || sid == 0 {
		t.Fatalf("ephemeralOwner %q", owner)
	}
	cli.Send("get -w /zcli")
	cli.MustExpect(`^world$`, slow)

	first := waitMemberOfSession(t, c, sid, 0)
	c.Kill(first)
	second := waitMemberOfSession(t, c, sid, first)
	t.Logf("zkCli session 0x%x moved from member %d to member %d", sid, first, second)
	other := pinned(t, c, leader)
	if _, err := other.Conn.Set("/zcli", []byte("again"), -1); err != nil {
		t.Fatal(err)
	}
	cli.MustExpect(`WatchedEvent state:SyncConnected type:NodeDataChanged path:/zcli`, slow)
	// Retry a command that raced with the reconnection.
	getAgain := func(re string) {
		for i := 0; ; i++ {
			cli.Send("get /zcli")
			m, seen, err := cli.Expect(re+`|ConnectionLoss`, slow)
			if err != nil {
				t.Fatalf("%v (read %q)", err, seen)
			}
			if !strings.Contains(m[0], "ConnectionLoss") {
				return
			}
			if i == 5 {
				t.Fatal("zkCli keeps losing its connection")
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	getAgain(`^again$`)
	cli.Send("stat /zcli-eph")
	if got := cli.MustExpect(`^ephemeralOwner = (0x[0-9a-f]+)$`, slow)[1]; got != owner {
		t.Fatalf("ephemeral owner after reconnect %s, want %s", got, owner)
	}
	cli.Send("delete /zcli")
	cli.Send("ls /")
	m := cli.MustExpect(`^\[.*\]$`, slow)
	if strings.Contains(m[0], "zcli,") || strings.Contains(m[0], "zcli]") {
		t.Fatalf("ls / after delete: %s", m[0])
	}
	cli.Send("quit")
	if err := cli.Wait(slow); err != nil {
		t.Fatal(err)
	}
	// The session closed: its ephemeral is gone.
	if _, err := other.Conn.Sync("/zcli-eph"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := other.Conn.Exists("/zcli-eph"); err != nil || ok {
		t.Fatalf("/zcli-eph after zkCli quit: exists=%v %v", ok, err)
	}
}

const cliMT = "/usr/lib/zookeeper/bin/cli_mt"

// TestCClientSession: Apache's C client shell (cli_mt) — create, set, get,
// ls, exists, sync, an ephemeral; its member is killed and the session
// goes on elsewhere.
func TestCClientSession(t *testing.T) {
	needFile(t, cliMT)
	c := StartProcs(t, ProcOptions{Voters: 3})
	leader, _ := c.WaitLeader(10 * time.Second)
	var hosts []string
	for _, id := range c.Followers(leader) {
		hosts = append(hosts, c.ClientAddr(id))
	}
	cli := StartInteractive(t, "cli_mt", os.Environ(), cliMT, "-h", strings.Join(hosts, ","))
	const slow = 20 * time.Second
	m := cli.MustExpect(`Got a new session id: (0x[0-9a-f]+)`, slow)
	sid, err := strconv.ParseUint(strings.TrimPrefix(m[1], "0x"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	cli.Send("create /cmt")
	cli.MustExpect(`^\[/cmt\]: rc = 0$`, slow)
	cli.Send("set /cmt hello")
	cli.MustExpect(`^/cmt: rc = 0 Stat:$`, slow)
	cli.Send("get /cmt")
	cli.MustExpect(`^hello$`, slow)
	cli.Send("create +e /cmt/eph")
	cli.MustExpect(`^\[/cmt/eph\]: rc = 0$`, slow)
	cli.Send("ls /cmt")
	cli.MustExpect(`^\teph$`, slow)

	first := waitMemberOfSession(t, c, int64(sid), 0)
	c.Kill(first)
	second := waitMemberOfSession(t, c, int64(sid), first)
	t.Logf("cli_mt session 0x%x moved from member %d to member %d", sid, first, second)
	cli.MustExpect(`state = CONNECTED_STATE`, slow)
	cli.Send("sync /cmt")
	cli.MustExpect(`rc = 0`, slow)
	cli.Send("set /cmt world")
	cli.MustExpect(`^/cmt: rc = 0 Stat:$`, slow)
	cli.Send("get /cmt")
	cli.MustExpect(`^world$`, slow)
	other := pinned(t, c, leader)
	if _, st, err := other.Conn.Get("/cmt/eph"); err != nil || uint64(st.EphemeralOwner) != sid {
		t.Fatalf("ephemeral after the reconnect: %+v %v", st, err)
	}
	cli.Send("delete /cmt/eph")
	cli.MustExpect(`^/cmt/eph: rc = 0$`, slow)
	cli.Send("delete /cmt")
	cli.MustExpect(`^/cmt: rc = 0$`, slow)
	cli.Send("exists /cmt")
	cli.MustExpect(`-101`, slow)
	cli.Send("quit")
	if err := cli.Wait(slow); err != nil {
		t.Fatal(err)
	}
}
