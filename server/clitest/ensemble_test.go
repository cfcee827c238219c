package clitest

import (
	"log/slog"
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
