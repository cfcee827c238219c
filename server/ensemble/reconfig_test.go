package ensemble

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/config"
	"zkit/server/internal/zkclient"
	"zkit/server/proto"
)

func superDigest(userPass string) string {
	h := sha1.Sum([]byte(userPass))
	return strings.SplitN(userPass, ":", 2)[0] + ":" + base64.StdEncoding.EncodeToString(h[:])
}

// superClient connects to addr and authenticates as the super user.
func superClient(t *testing.T, addr string) *zkclient.Client {
	t.Helper()
	c, err := zkclient.Connect(addr, zkclient.Options{Timeout: 4 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { c.Drop() })
	code, err := c.Auth("digest", []byte("super:secret"))
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, code)
	return c
}

func reconfig(t *testing.T, c *zkclient.Client, req proto.ReconfigRequest) (proto.Err, config.Quorum) {
	t.Helper()
	var r proto.GetDataResponse
	h, err := c.Call(proto.OpReconfig, &req, &r)
	require.NoError(t, err)
	if h.Err != proto.ErrOK {
		return h.Err, config.Quorum{}
	}
	q, err := config.ParseDynamic(string(r.Data))
	require.NoError(t, err, "reply data %q", r.Data)
	require.Equal(t, h.Zxid, q.Version, "the new configuration's version is its zxid")
	require.Equal(t, h.Zxid, r.Stat.Mzxid)
	require.EqualValues(t, -1, r.Stat.Version, "/zookeeper/config keeps data version -1")
	return h.Err, q
}

func ids(q config.Quorum, observers bool) []int64 {
	var out []int64
	for _, s := range q.Servers {
		if s.Observer == observers {
			out = append(out, s.ID)
		}
	}
	return out
}

// waitMembership waits until every running member has made q active.
func waitMembership(t *testing.T, e *Ensemble, version int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, m := range e.Members() {
			srv := m.Server()
			if srv == nil || !m.Status().Running {
				continue
			}
			if srv.Membership().Version != version {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "members did not all activate version %#x", version)
}

func startReconfig(t *testing.T) *Ensemble {
	return start(t, Config{ReconfigEnabled: true, SuperDigest: superDigest("super:secret"), TickTime: 100 * time.Millisecond})
}

// The first leader gives the initial configuration its epoch's zxid as
// version; /zookeeper/config shows every server with its client address.
func TestConfigNodeHoldsMembership(t *testing.T) {
	e := startReconfig(t)
	c := superClient(t, e.Leader().ClientAddr())
	var r proto.GetDataResponse
	h, err := c.Call(proto.OpGetData, &proto.PathWatchRequest{Path: "/zookeeper/config"}, &r)
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, h.Err)
	q, err := config.ParseDynamic(string(r.Data))
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2, 3}, ids(q, false))
	require.NotZero(t, q.Version)
	require.Zero(t, uint32(q.Version), "the version is an epoch's first zxid")
	require.Equal(t, q.Version, r.Stat.Mzxid)
	require.EqualValues(t, -1, r.Stat.Version)
	for _, s := range q.Servers {
		require.Equal(t, e.Member(uint64(s.ID)).ClientAddr(), fmt.Sprintf("%s:%d", s.ClientHost, s.ClientPort))
	}
	require.True(t, strings.HasSuffix(string(r.Data), fmt.Sprintf("version=%x", q.Version)))
}

// Remove a follower, add a new server, swap roles: each reconfig commits,
// every member activates it, clients see it in /zookeeper/config, and the
// ensemble keeps its quorum rules with the new members.
func TestReconfigRemoveAndAdd(t *testing.T) {
	e := startReconfig(t)
	leader := e.Leader()
	var follower *Member
	for _, m := range e.Members() {
		if m != leader {
			follower = m
			break
		}
	}
	c := superClient(t, leader.ClientAddr())
	var w proto.GetDataResponse
	_, err := c.Call(proto.OpGetData, &proto.PathWatchRequest{Path: "/zookeeper/config", Watch: true}, &w)
	require.NoError(t, err)

	code, q := reconfig(t, c, proto.ReconfigRequest{LeavingServers: fmt.Sprint(follower.ID), HasLeaving: true, CurConfigID: -1})
	require.Equal(t, proto.ErrOK, code)
	require.NotContains(t, ids(q, false), int64(follower.ID))
	waitMembership(t, e, q.Version)
	ev, ok := c.NextEvent(5 * time.Second)
	require.True(t, ok, "no watch event on /zookeeper/config")
	require.Equal(t, proto.EventNodeDataChanged, ev.Type)
	require.Equal(t, "/zookeeper/config", ev.Path)

	// The removed member goes on following, without a vote.
	require.Eventually(t, func() bool { return follower.Status().Serving }, 10*time.Second, 10*time.Millisecond)

	joiner, err := e.Join(false)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return joiner.Status().Serving }, 10*time.Second, 10*time.Millisecond,
		"the joining server never synced")
	code, q = reconfig(t, c, proto.ReconfigRequest{JoiningServers: joiner.Spec(), HasJoining: true, CurConfigID: q.Version})
	require.Equal(t, proto.ErrOK, code)
	require.Contains(t, ids(q, false), int64(joiner.ID))
	waitMembership(t, e, q.Version)

	// The voters are now the leader, the other original follower and the
	// joiner: with the removed member down, and then the other follower,
	// the quorum is two of three.
	follower.Kill()
	mustCreate(t, client(t, joiner.ClientAddr()), "/after-join", "x")

	// Non-incremental: the joiner becomes an observer.
	var specs []string
	for _, s := range q.Servers {
		if s.ID == int64(joiner.ID) {
			s.Observer = true
		}
		specs = append(specs, fmt.Sprintf("server.%d=%s", s.ID, s.String()))
	}
	code, q = reconfig(t, c, proto.ReconfigRequest{NewMembers: strings.Join(specs, ","), HasNewMembers: true, CurConfigID: q.Version})
	require.Equal(t, proto.ErrOK, code)
	require.Equal(t, []int64{int64(joiner.ID)}, ids(q, true))
	waitMembership(t, e, q.Version)
	require.Eventually(t, func() bool { return joiner.Status().State() == "observing" }, 10*time.Second, 10*time.Millisecond)
}

// The leader removing itself steps down; the others elect a new leader
// and go on.
func TestReconfigRemoveLeader(t *testing.T) {
	e := startReconfig(t)
	old := e.Leader()
	var other *Member
	for _, m := range e.Members() {
		if m != old {
			other = m
			break
		}
	}
	c := superClient(t, other.ClientAddr())
	code, q := reconfig(t, c, proto.ReconfigRequest{LeavingServers: fmt.Sprint(old.ID), HasLeaving: true, CurConfigID: -1})
	require.Equal(t, proto.ErrOK, code)
	require.Eventually(t, func() bool { l := e.Leader(); return l != nil && l != old }, 10*time.Second, 10*time.Millisecond)
	waitMembership(t, e, q.Version)
	mustCreate(t, client(t, e.Leader().ClientAddr()), "/after-leader-left", "x")
}

// Errors, in PrepRequestProcessor's order, each leaving the ensemble as it
// was.
func TestReconfigErrors(t *testing.T) {
	e := startReconfig(t)
	addr := e.Leader().ClientAddr()
	su := superClient(t, addr)
	anon, err := zkclient.Connect(addr, zkclient.Options{Timeout: 4 * time.Second})
	require.NoError(t, err)
	defer anon.Drop()
	for _, tc := range []struct {
		name string
		c    *zkclient.Client
		req  proto.ReconfigRequest
		want proto.Err
	}{
		{"not authorized", anon, proto.ReconfigRequest{LeavingServers: "3", HasLeaving: true, CurConfigID: -1}, proto.ErrNoAuth},
		{"bad version before the ACL", anon, proto.ReconfigRequest{LeavingServers: "3", HasLeaving: true, CurConfigID: 12345}, proto.ErrBadVersion},
		{"bad joiner", su, proto.ReconfigRequest{JoiningServers: "server.4=127.0.0.1", HasJoining: true, CurConfigID: -1}, proto.ErrBadArguments},
		{"bad leaver", su, proto.ReconfigRequest{LeavingServers: "x", HasLeaving: true, CurConfigID: -1}, proto.ErrMarshallingError},
		{"garbage members", su, proto.ReconfigRequest{NewMembers: "hello", HasNewMembers: true, CurConfigID: -1}, proto.ErrBadArguments},
		{"one voter left", su, proto.ReconfigRequest{LeavingServers: "2,3", HasLeaving: true, CurConfigID: -1}, proto.ErrBadArguments},
		{"absent new voters", su, proto.ReconfigRequest{NewMembers: "server.7=127.0.0.1:1:2;3,server.8=127.0.0.1:4:5;6,server.9=127.0.0.1:7:8;9", HasNewMembers: true, CurConfigID: -1}, proto.ErrNewConfigNoQuorum},
	} {
		code, _ := reconfig(t, tc.c, tc.req)
		require.Equal(t, tc.want, code, tc.name)
	}
	for _, m := range e.Members() {
		require.Equal(t, []int64{1, 2, 3}, ids(m.Server().Membership(), false))
	}
	mustCreate(t, client(t, e.ConnectString()), "/still-fine", "x")
}

// Without reconfigEnabled every reconfig is RECONFIGDISABLED and the
// configuration keeps version 0.
func TestReconfigDisabled(t *testing.T) {
	e := start(t, Config{SuperDigest: superDigest("super:secret"), TickTime: 100 * time.Millisecond})
	c := superClient(t, e.Leader().ClientAddr())
	code, _ := reconfig(t, c, proto.ReconfigRequest{LeavingServers: "3", HasLeaving: true, CurConfigID: -1})
	require.Equal(t, proto.ErrReconfigDisabled, code)
	var r proto.GetDataResponse
	_, err := c.Call(proto.OpGetData, &proto.PathWatchRequest{Path: "/zookeeper/config"}, &r)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(r.Data), "\nversion=0"), "%q", r.Data)
	require.Zero(t, r.Stat.Mzxid)
}

// A restarted member comes back with the configuration it last activated.
func TestReconfigSurvivesRestart(t *testing.T) {
	e := startReconfig(t)
	c := superClient(t, e.Leader().ClientAddr())
	var leaving *Member
	for _, m := range e.Members() {
		if m != e.Leader() {
			leaving = m
			break
		}
	}
	code, q := reconfig(t, c, proto.ReconfigRequest{LeavingServers: fmt.Sprint(leaving.ID), HasLeaving: true, CurConfigID: -1})
	require.Equal(t, proto.ErrOK, code)
	waitMembership(t, e, q.Version)
	for _, m := range e.Members() {
		if m == leaving {
			continue
		}
		require.NoError(t, m.Restart())
		require.Equal(t, q.Version, m.Server().Membership().Version, "member %d restarted with another configuration", m.ID)
	}
	require.NoError(t, e.WaitReady(10*time.Second))
	mustCreate(t, client(t, e.ConnectString()), "/after-restart", "x")
}
