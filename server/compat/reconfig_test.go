package compat

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/ensemble"
	"zkit/server/internal/oracle"
	"zkit/server/internal/zkclient"
	"zkit/server/proto"
)

// Dynamic reconfiguration against Apache ZooKeeper: the same sequence of
// reconfig requests on a 3-member Apache ensemble and a 3-member zkit
// ensemble, recorded as transcripts (reply codes, the configuration each
// reply and /zookeeper/config hold, the watch event) and compared line by
// line. Members are named by role, ports by member, versions by order, so
// that the two ensembles' own ids, ports and zxids do not show.

// reconfigMember is one member of either ensemble, by role: L leads, C
// holds the clients, R is removed and added back.
type reconfigMember struct {
	id                     int64
	client, quorum, elect  string // host:port
	label                  string
	clientPort, quorumPort string
	electPort              string
}

type reconfigSide struct {
	members  []reconfigMember
	leader   int64
	clientAt string
}

func (s reconfigSide) byLabel(l string) reconfigMember {
	for _, m := range s.members {
		if m.label == l {
			return m
		}
	}
	panic(l)
}

func (s reconfigSide) spec(l, role string) string {
	m := s.byLabel(l)
	return fmt.Sprintf("server.%d=%s:%s:%s;%s", m.id, m.quorum, m.electPort, role, m.client)
}

// label assigns roles: the leader, then the other two in id order.
func label(ms []reconfigMember, leader int64) reconfigSide {
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
	rest := []string{"C", "R"}
	for i := range ms {
		if ms[i].id == leader {
			ms[i].label = "L"
			continue
		}
		ms[i].label, rest = rest[0], rest[1:]
		_, ms[i].clientPort, _ = net.SplitHostPort(ms[i].client)
		_, ms[i].quorumPort, _ = net.SplitHostPort(ms[i].quorum)
	}
	side := reconfigSide{members: ms, leader: leader}
	side.clientAt = side.byLabel("C").client
	return side
}

var (
	serverLine = regexp.MustCompile(`^server\.(\d+)=(.*)$`)
	versionHex = regexp.MustCompile(`^version=([0-9a-f]+)$`)
)

// normConfig rewrites a configuration's text with labels: server ids and
// addresses become the member's label, versions their rank.
func (s reconfigSide) normConfig(text string, versions map[string]string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if m := serverLine.FindStringSubmatch(l); m != nil {
			v := m[2]
			name := "server." + m[1]
			for _, mm := range s.members {
				if fmt.Sprint(mm.id) == m[1] {
					name = "server." + mm.label
				}
				v = strings.ReplaceAll(v, mm.quorum+":"+mm.electPort, "Q"+mm.label)
				v = strings.ReplaceAll(v, mm.client, "C"+mm.label)
			}
			lines = append(lines, name+"="+v)
			continue
		}
		if m := versionHex.FindStringSubmatch(l); m != nil {
			if _, ok := versions[m[1]]; !ok {
				versions[m[1]] = fmt.Sprintf("V%d", len(versions))
			}
			lines = append(lines, "version="+versions[m[1]])
			continue
		}
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return strings.Join(lines, " | ")
}

// reconfigScript runs the sequence and returns its transcript.
func reconfigScript(t *testing.T, s reconfigSide, absent []string) []string {
	versions := map[string]string{}
	var out []string
	anon, err := zkclient.Connect(s.clientAt, zkclient.Options{Timeout: 4 * time.Second})
	require.NoError(t, err)
	defer anon.Drop()
	su, err := zkclient.Connect(s.clientAt, zkclient.Options{Timeout: 4 * time.Second})
	require.NoError(t, err)
	defer su.Drop()
	code, err := su.Auth("digest", []byte("super:secret"))
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, code)

	getConfig := func(what string, c *zkclient.Client, watch bool) {
		var r proto.GetDataResponse
		h, err := c.Call(proto.OpGetData, &proto.PathWatchRequest{Path: "/zookeeper/config", Watch: watch}, &r)
		require.NoError(t, err)
		out = append(out, fmt.Sprintf("%s: getData err=%d [%s] version=%d", what, h.Err, s.normConfig(string(r.Data), versions), r.Stat.Version))
	}
	step := func(what string, c *zkclient.Client, req proto.ReconfigRequest) {
		var r proto.GetDataResponse
		h, err := c.Call(proto.OpReconfig, &req, &r)
		require.NoError(t, err, what)
		if h.Err != proto.ErrOK {
			out = append(out, fmt.Sprintf("%s: err=%d", what, h.Err))
			return
		}
		out = append(out, fmt.Sprintf("%s: ok [%s] version=%d mzxid-is-reply-zxid=%v", what,
			s.normConfig(string(r.Data), versions), r.Stat.Version, r.Stat.Mzxid == h.Zxid))
	}
	leave := func(l string) proto.ReconfigRequest {
		return proto.ReconfigRequest{LeavingServers: fmt.Sprint(s.byLabel(l).id), HasLeaving: true, CurConfigID: -1}
	}
	getConfig("initial", anon, true)
	step("anonymous leave R", anon, leave("R"))
	bad := leave("R")
	bad.CurConfigID = 12345
	step("bad version", su, bad)
	step("nothing", su, proto.ReconfigRequest{CurConfigID: -1})
	step("bad joiner", su, proto.ReconfigRequest{JoiningServers: "server.4=127.0.0.1", HasJoining: true, CurConfigID: -1})
	step("bad leaver", su, proto.ReconfigRequest{LeavingServers: "x", HasLeaving: true, CurConfigID: -1})
	ev, ok := anon.NextEvent(5 * time.Second)
	out = append(out, fmt.Sprintf("watch event: %v type=%d path=%s", ok, ev.Type, ev.Path))
	step("leave R", su, leave("R"))
	getConfig("after leave", anon, false)
	step("leave C too", su, leave("C"))
	step("leave unknown", su, proto.ReconfigRequest{LeavingServers: "9", HasLeaving: true, CurConfigID: -1})
	step("join R back", su, proto.ReconfigRequest{JoiningServers: s.spec("R", "participant"), HasJoining: true, CurConfigID: -1})
	step("join an absent voter", su, proto.ReconfigRequest{JoiningServers: absent[0], HasJoining: true, CurConfigID: -1})
	step("join an absent observer", su, proto.ReconfigRequest{JoiningServers: absent[1], HasJoining: true, CurConfigID: -1})
	step("non-incremental, R observes", su, proto.ReconfigRequest{NewMembers: strings.Join([]string{
		s.spec("L", "participant"), s.spec("C", "participant"), s.spec("R", "observer")}, ","), HasNewMembers: true, CurConfigID: -1})
	step("non-incremental to absent voters", su, proto.ReconfigRequest{NewMembers: s.spec("L", "participant") + "," + absent[2] + "," + absent[3],
		HasNewMembers: true, CurConfigID: -1})
	step("non-incremental garbage", su, proto.ReconfigRequest{NewMembers: "hello", HasNewMembers: true, CurConfigID: -1})
	// Let the observer switch settle before the last read.
	time.Sleep(500 * time.Millisecond)
	getConfig("final", anon, false)
	return out
}

func superDigestOf(userPass string) string {
	h := sha1.Sum([]byte(userPass))
	return strings.SplitN(userPass, ":", 2)[0] + ":" + base64.StdEncoding.EncodeToString(h[:])
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func TestReconfigAgainstApache(t *testing.T) {
	digest := superDigestOf("super:secret")
	// Short ticks keep the run quick; a syncLimit of 20 ticks (4 s) keeps
	// a loaded machine's stalls from cutting a learner off its leader
	// (LearnerHandler's socket timeout is syncLimit ticks), on both sides.
	ap := oracle.StartEnsemble(t, 3, oracle.Options{TickTime: 200, Config: map[string]string{
		"reconfigEnabled": "true", "DigestAuthenticationProvider.superDigest": digest, "syncLimit": "20",
	}})
	zs, err := ensemble.Start(ensemble.Config{ReconfigEnabled: true, SuperDigest: digest, TickTime: 200 * time.Millisecond, SyncLimit: 20})
	require.NoError(t, err)
	t.Cleanup(zs.Close)
	require.NoError(t, zs.WaitReady(10*time.Second))

	// Servers that never run, the same on both sides.
	port := func(a string) string { _, p, _ := net.SplitHostPort(a); return p }
	absent := []string{
		fmt.Sprintf("server.4=127.0.0.1:%s:%s:participant;%s", port(freeAddr(t)), port(freeAddr(t)), freeAddr(t)),
		fmt.Sprintf("server.5=127.0.0.1:%s:%s:observer;%s", port(freeAddr(t)), port(freeAddr(t)), freeAddr(t)),
		fmt.Sprintf("server.7=127.0.0.1:%s:%s;%s", port(freeAddr(t)), port(freeAddr(t)), freeAddr(t)),
		fmt.Sprintf("server.8=127.0.0.1:%s:%s;%s", port(freeAddr(t)), port(freeAddr(t)), freeAddr(t)),
	}

	var apMembers []reconfigMember
	for i := 0; i < ap.Size(); i++ {
		m := ap.Member(i)
		q, e, c := m.PeerAddrs()
		apMembers = append(apMembers, reconfigMember{id: int64(i + 1), client: c, quorum: q, elect: e, electPort: port(e)})
	}
	var zkMembers []reconfigMember
	for _, m := range zs.Members() {
		a := m.Addrs()
		zkMembers = append(zkMembers, reconfigMember{id: int64(m.ID), client: m.ClientAddr(), quorum: a.Quorum, elect: a.Election, electPort: port(a.Election)})
	}
	apSide := label(apMembers, int64(ap.Leader()+1))
	zkSide := label(zkMembers, int64(zs.Leader().ID))

	want := reconfigScript(t, apSide, absent)
	got := reconfigScript(t, zkSide, absent)
	t.Logf("transcript:\n%s", strings.Join(want, "\n"))
	require.Equal(t, want, got, "reconfig transcripts differ (want: Apache, got: zkit)")
}
