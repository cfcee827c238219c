//go:build oracle_capture

// This file records how Apache ZooKeeper answers dynamic reconfiguration,
// the reference for zkit's reconfig:
//
//	go test -tags oracle_capture -run TestCaptureReconfig -v ./server/internal/oracle/
//
// It is not part of the normal test run.
package oracle

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/internal/zkclient"
	"zkit/server/proto"
)

func superDigest(userPass string) string {
	h := sha1.Sum([]byte(userPass))
	return strings.SplitN(userPass, ":", 2)[0] + ":" + base64.StdEncoding.EncodeToString(h[:])
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type reconfigStep struct {
	name string
	req  proto.ReconfigRequest
}

func showStat(s proto.Stat) string {
	return fmt.Sprintf("czxid=0x%x mzxid=0x%x ctime=%d mtime=%d version=%d cversion=%d aversion=%d eph=%d len=%d nchildren=%d pzxid=0x%x",
		s.Czxid, s.Mzxid, s.Ctime, s.Mtime, s.Version, s.Cversion, s.Aversion, s.EphemeralOwner, s.DataLength, s.NumChildren, s.Pzxid)
}

func getConfig(t *testing.T, c *zkclient.Client, label string, watch bool) {
	var r proto.GetDataResponse
	h, err := c.Call(proto.OpGetData, &proto.PathWatchRequest{Path: "/zookeeper/config", Watch: watch}, &r)
	require.NoError(t, err)
	t.Logf("%s: getData /zookeeper/config err=%d zxid=0x%x\n---\n%s\n---\n%s", label, h.Err, h.Zxid, r.Data, showStat(r.Stat))
}

func reconfig(t *testing.T, c *zkclient.Client, step reconfigStep) {
	var r proto.GetDataResponse
	h, err := c.Call(proto.OpReconfig, &step.req, &r)
	require.NoError(t, err)
	if h.Err != proto.ErrOK {
		t.Logf("%s: reconfig err=%d (%v) zxid=0x%x", step.name, h.Err, h.Err, h.Zxid)
		return
	}
	t.Logf("%s: reconfig ok zxid=0x%x\n---\n%s\n---\n%s", step.name, h.Zxid, r.Data, showStat(r.Stat))
}

func TestCaptureReconfig(t *testing.T) {
	e := StartEnsemble(t, 3, Options{TickTime: 200, Config: map[string]string{
		"reconfigEnabled":                          "true",
		"DigestAuthenticationProvider.superDigest": superDigest("super:secret"),
	}})
	leader := e.Leader()
	ci, ri := -1, -1 // the member clients use, the member removed
	for i := 0; i < 3; i++ {
		if i == leader {
			continue
		}
		if ci < 0 {
			ci = i
		} else {
			ri = i
		}
	}
	addr := e.Addr(ci)
	rid := fmt.Sprint(ri + 1)
	t.Logf("leader myid %d, clients on myid %d, removing myid %s", leader+1, ci+1, rid)
	for i := 0; i < 3; i++ {
		out, _ := zkclient.FourLetter(e.Addr(i), "conf")
		t.Logf("conf member %d:\n%s", i+1, out)
	}
	anon, err := zkclient.Connect(addr, zkclient.Options{})
	require.NoError(t, err)
	defer anon.Close()
	getConfig(t, anon, "initial", true)
	var acl proto.GetACLResponse
	h, err := anon.Call(proto.OpGetACL, &proto.PathRecord{Path: "/zookeeper/config"}, &acl)
	require.NoError(t, err)
	t.Logf("getACL /zookeeper/config err=%d acl=%+v", h.Err, acl.ACL)
	reconfig(t, anon, reconfigStep{"anonymous leave 3", proto.ReconfigRequest{LeavingServers: rid, HasLeaving: true, CurConfigID: -1}})

	su, err := zkclient.Connect(addr, zkclient.Options{})
	require.NoError(t, err)
	defer su.Close()
	code, err := su.Auth("digest", []byte("super:secret"))
	require.NoError(t, err)
	require.Equal(t, proto.ErrOK, code)

	m3 := e.Member(ri)
	m4q, m4e, m4c := freePort(t), freePort(t), freePort(t)
	steps := []reconfigStep{
		{"bad version", proto.ReconfigRequest{LeavingServers: rid, HasLeaving: true, CurConfigID: 12345}},
		{"nothing", proto.ReconfigRequest{CurConfigID: -1}},
		{"bad joiner syntax", proto.ReconfigRequest{JoiningServers: "server.4=127.0.0.1", HasJoining: true, CurConfigID: -1}},
		{"bad leaver", proto.ReconfigRequest{LeavingServers: "x", HasLeaving: true, CurConfigID: -1}},
		{"leave r", proto.ReconfigRequest{LeavingServers: rid, HasLeaving: true, CurConfigID: -1}},
	}
	for _, s := range steps {
		reconfig(t, su, s)
	}
	if ev, ok := anon.NextEvent(5 * time.Second); ok {
		t.Logf("watch event: %+v zxid=0x%x", ev.WatcherEvent, ev.Zxid)
	} else {
		t.Logf("no watch event")
	}
	getConfig(t, anon, "after leave 3", false)
	time.Sleep(time.Second)
	for i := 0; i < 3; i++ {
		out, _ := zkclient.FourLetter(e.Addr(i), "srvr")
		t.Logf("srvr member %d:\n%s", i+1, out)
	}
	steps = []reconfigStep{
		{"leave the client member (one voter left)", proto.ReconfigRequest{LeavingServers: fmt.Sprint(ci + 1), HasLeaving: true, CurConfigID: -1}},
		{"leave unknown 9", proto.ReconfigRequest{LeavingServers: "9", HasLeaving: true, CurConfigID: -1}},
		{"join 3 back", proto.ReconfigRequest{JoiningServers: fmt.Sprintf("server.%d=127.0.0.1:%d:%d:participant;127.0.0.1:%d", m3.id, m3.quorumPort, m3.electionPort, m3.clientPort), HasJoining: true, CurConfigID: -1}},
		{"join 4 (not running)", proto.ReconfigRequest{JoiningServers: fmt.Sprintf("server.4=127.0.0.1:%d:%d:participant;127.0.0.1:%d", m4q, m4e, m4c), HasJoining: true, CurConfigID: -1}},
		{"join 5 observer (not running)", proto.ReconfigRequest{JoiningServers: fmt.Sprintf("server.5=127.0.0.1:%d:%d:observer;127.0.0.1:%d", freePort(t), freePort(t), freePort(t)), HasJoining: true, CurConfigID: -1}},
	}
	for _, s := range steps {
		reconfig(t, su, s)
	}
	getConfig(t, anon, "after joins", false)
	m1, m2 := e.Member(leader), e.Member(ci)
	spec := func(m *Member, role string) string {
		return fmt.Sprintf("server.%d=127.0.0.1:%d:%d:%s;127.0.0.1:%d", m.id, m.quorumPort, m.electionPort, role, m.clientPort)
	}
	steps = []reconfigStep{
		{"non-incremental 1,2 voters 3 observer", proto.ReconfigRequest{NewMembers: strings.Join([]string{spec(m1, "participant"), spec(m2, "participant"), spec(m3, "observer")}, ","), HasNewMembers: true, CurConfigID: -1}},
		{"non-incremental to absent 4,5", proto.ReconfigRequest{NewMembers: fmt.Sprintf("%s,server.4=127.0.0.1:%d:%d;127.0.0.1:%d,server.5=127.0.0.1:%d:%d;127.0.0.1:%d", spec(m1, "participant"), freePort(t), freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)), HasNewMembers: true, CurConfigID: -1}},
		{"non-incremental garbage", proto.ReconfigRequest{NewMembers: "hello", HasNewMembers: true, CurConfigID: -1}},
		{"non-incremental no client port", proto.ReconfigRequest{NewMembers: fmt.Sprintf("server.1=127.0.0.1:%d:%d,server.2=127.0.0.1:%d:%d", m1.quorumPort, m1.electionPort, m2.quorumPort, m2.electionPort), HasNewMembers: true, CurConfigID: -1}},
	}
	for _, s := range steps {
		reconfig(t, su, s)
	}
	time.Sleep(time.Second)
	getConfig(t, anon, "final", false)
	for i := 0; i < 3; i++ {
		out, _ := zkclient.FourLetter(e.Addr(i), "srvr")
		t.Logf("srvr member %d:\n%s", i+1, out)
		out, _ = zkclient.FourLetter(e.Addr(i), "conf")
		t.Logf("conf member %d:\n%s", i+1, out)
	}
	var w proto.WhoAmIResponse
	_, _ = su.Call(proto.OpWhoAmI, nil, &w)
}

func TestCaptureReconfigDisabled(t *testing.T) {
	e := StartEnsemble(t, 3, Options{TickTime: 200, Config: map[string]string{
		"DigestAuthenticationProvider.superDigest": superDigest("super:secret"),
	}})
	su, err := zkclient.Connect(e.Addr(e.Leader()), zkclient.Options{})
	require.NoError(t, err)
	defer su.Close()
	_, _ = su.Auth("digest", []byte("super:secret"))
	getConfig(t, su, "disabled", false)
	reconfig(t, su, reconfigStep{"disabled leave 3", proto.ReconfigRequest{LeavingServers: "3", HasLeaving: true, CurConfigID: -1}})
	s := Start(t, Options{Config: map[string]string{"reconfigEnabled": "true"}})
	c, err := zkclient.Connect(s.Addr(), zkclient.Options{})
	require.NoError(t, err)
	defer c.Close()
	getConfig(t, c, "standalone", false)
	reconfig(t, c, reconfigStep{"standalone leave 3", proto.ReconfigRequest{LeavingServers: "3", HasLeaving: true, CurConfigID: -1}})
}

// TestCaptureReconfigCheckOrder: which check wins when several fail.
func TestCaptureReconfigCheckOrder(t *testing.T) {
	e := StartEnsemble(t, 3, Options{TickTime: 200, Config: map[string]string{"reconfigEnabled": "true"}})
	c, err := zkclient.Connect(e.Addr(e.Leader()), zkclient.Options{})
	require.NoError(t, err)
	defer c.Close()
	for _, s := range []reconfigStep{
		{"anonymous, bad version", proto.ReconfigRequest{LeavingServers: "3", HasLeaving: true, CurConfigID: 12345}},
		{"anonymous, garbage members", proto.ReconfigRequest{NewMembers: "hello", HasNewMembers: true, CurConfigID: -1}},
		{"anonymous, bad leaver", proto.ReconfigRequest{LeavingServers: "x", HasLeaving: true, CurConfigID: -1}},
		{"anonymous, no quorum", proto.ReconfigRequest{NewMembers: "server.7=127.0.0.1:1:2;3,server.8=127.0.0.1:4:5;6,server.9=127.0.0.1:7:8;9", HasNewMembers: true, CurConfigID: -1}},
	} {
		reconfig(t, c, s)
	}
}
