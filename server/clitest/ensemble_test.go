package clitest

import (
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/ensemble"
	"zkit/server/internal/oracle"
)

// TestZkCliEnsemble: a short zkCli.sh session on a follower of a 3-member
// zkit ensemble and of a 3-member Apache ensemble: writes go through the
// leader, reads and watches stay on the follower, sync catches it up.
func TestZkCliEnsemble(t *testing.T) {
	t.Parallel()
	needClients(t)
	ap := oracle.StartEnsemble(t, 3, oracle.Options{})
	zs, err := ensemble.Start(ensemble.Config{Size: 3, TickTime: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(zs.Close)
	require.NoError(t, zs.WaitReady(30*time.Second))

	apFollower := ap.Addr((ap.Leader() + 1) % 3)
	var zkFollower string
	for _, m := range zs.Members() {
		if m != zs.Leader() {
			zkFollower = m.ClientAddr()
			break
		}
	}
	s := servers{apache: apFollower, zkit: zkFollower}
	compareZkCliAllowing(t, s, deviations{}, []string{
		"create /e data",
		"create -s /e/seq- x",
		"create -e /e/eph x",
		"get -s -w /e",
		"set /e v2",
		"ls -s /e",
		"stat /e/eph",
		"getEphemerals /e",
		"sync /e",
		"getAllChildrenNumber /",
		"delete /e/eph",
		"deleteall /e",
		"ls /",
		"config",
		"whoami",
	})
}

// TestZkCliReconfig: zkCli.sh's reconfig and config on ensembles with
// reconfigEnabled, as the super user: remove a follower, add it back,
// make it an observer. The member changed is a follower in both
// ensembles, and the session is on another follower.
func TestZkCliReconfig(t *testing.T) {
	t.Parallel()
	needClients(t)
	digest := "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" // super:test
	ap := oracle.StartEnsemble(t, 3, oracle.Options{Config: map[string]string{
		"reconfigEnabled": "true", "DigestAuthenticationProvider.superDigest": digest,
	}})
	zs, err := ensemble.Start(ensemble.Config{Size: 3, TickTime: 2 * time.Second, ReconfigEnabled: true,
		SuperDigest: digest, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(zs.Close)
	require.NoError(t, zs.WaitReady(30*time.Second))

	// The member changed follows in both ensembles; the session is on
	// another member.
	changed := 1
	for ap.Leader() == changed-1 || zs.Leader().ID == uint64(changed) {
		changed++
	}
	session := 1
	if session == changed {
		session = 2
	}
	q, e, c := ap.Member(changed - 1).PeerAddrs()
	zm := zs.Member(uint64(changed))
	spec := func(addr string) string {
		if addr == ap.Addr(session-1) {
			return fmt.Sprintf("server.%d=%s:%s:%%s;%s", changed, q, portOf(e), c)
		}
		return fmt.Sprintf("server.%d=%s:%s:%%s;%s", changed, zm.Addrs().Quorum, portOf(zm.Addrs().Election), zm.ClientAddr())
	}
	s := servers{apache: ap.Addr(session - 1), zkit: zs.Member(uint64(session)).ClientAddr()}
	compareZkCliWith(t, s, func(addr string) []string {
		return []string{
			"addauth digest super:test",
			fmt.Sprintf("reconfig -remove %d", changed),
			"config",
			"reconfig -add " + fmt.Sprintf(spec(addr), "participant"),
			"reconfig -add " + fmt.Sprintf(spec(addr), "observer"),
			"config",
		}
	})
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
