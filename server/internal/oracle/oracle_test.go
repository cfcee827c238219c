package oracle

import (
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStandalone(t *testing.T) {
	s := Start(t, Options{Config: map[string]string{"extendedTypesEnabled": "true"}})
	t.Logf("standalone Apache ZooKeeper at %s, pid %d, serving after %v", s.Addr(), s.PID(), s.StartupTime())

	require.True(t, strings.HasPrefix(s.Addr(), "127.0.0.1:"), s.Addr())
	assert.NotEqual(t, "127.0.0.1:0", s.Addr())

	out, err := FourLetter(s.Addr(), "ruok")
	require.NoError(t, err)
	assert.Equal(t, "imok", out)

	out, err = FourLetter(s.Addr(), "srvr")
	require.NoError(t, err)
	assert.Contains(t, out, "Mode: standalone\n")

	out, err = FourLetter(s.Addr(), "conf")
	require.NoError(t, err)
	assert.Contains(t, out, "clientPort="+strings.TrimPrefix(s.Addr(), "127.0.0.1:")+"\n")

	assert.Contains(t, s.LogTail(1000), "binding to port /127.0.0.1:0")

	pid := s.PID()
	dir := s.Dir()
	s.Stop()
	assert.True(t, processGone(pid), "pid %d still exists after Stop", pid)
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "temp dir %s not removed", dir)
}

func TestEnsemble(t *testing.T) {
	e := StartEnsemble(t, 3, Options{})
	t.Logf("3-member Apache ensemble %s serving after %v (%d attempt(s))", e.ConnectString(), e.StartupTime(), e.Attempts())

	modes := map[string]int{}
	for i := 0; i < e.Size(); i++ {
		out, err := FourLetter(e.Addr(i), "srvr")
		require.NoError(t, err)
		modes[srvrMode(out)]++
	}
	assert.Equal(t, map[string]int{"leader": 1, "follower": 2}, modes)

	leader := e.Leader()
	require.GreaterOrEqual(t, leader, 0)

	// Kill a follower: its process is gone, the rest still form a quorum.
	victim := (leader + 1) % e.Size()
	pid := e.PID(victim)
	e.Kill(victim)
	assert.True(t, processGone(pid), "pid %d still exists after Kill", pid)
	assert.False(t, e.Member(victim).Running())
	_, err := FourLetter(e.Addr(victim), "ruok")
	assert.Error(t, err, "killed member still answers")
	mode, err := e.Mode(leader)
	require.NoError(t, err)
	assert.Equal(t, "leader", mode)

	// Restart it at the same address: it rejoins as a follower.
	require.NoError(t, e.Start(victim))
	assert.NotEqual(t, pid, e.PID(victim))
	mode, err = e.Mode(victim)
	require.NoError(t, err)
	assert.Equal(t, "follower", mode)

	// Graceful stop of the leader: a new leader is elected among the others.
	e.Stop(leader)
	require.Eventually(t, func() bool {
		l := e.Leader()
		return l >= 0 && l != leader
	}, 30*time.Second, 50*time.Millisecond)
}

func TestMissingJava(t *testing.T) {
	_, err := Launch(Options{Java: "/nonexistent/java"})
	var me *MissingError
	require.True(t, errors.As(err, &me), "%v", err)
	assert.Contains(t, err.Error(), "apt-get install -y zookeeper zookeeper-bin default-jre-headless")

	_, err = Launch(Options{JarDir: t.TempDir()})
	require.True(t, errors.As(err, &me), "%v", err)
	assert.Contains(t, err.Error(), "zookeeper.jar")
}

func TestReservedKey(t *testing.T) {
	_, err := Launch(Options{Config: map[string]string{"clientPort": "2181"}})
	require.Error(t, err)
}

func TestParseProcAddr(t *testing.T) {
	ap, err := parseProcAddr("0100007F:8371")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:33649", ap.String())
	ap, err = parseProcAddr("0000000000000000FFFF00000100007F:8371")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:33649", ap.String())
	ap, err = parseProcAddr("00000000000000000000000001000000:0050")
	require.NoError(t, err)
	assert.Equal(t, "[::1]:80", ap.String())
}

// processGone reports whether no process with this pid exists any more.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// TestEnsembleBindRetry hands the first attempt a client port that is taken:
// the ensemble start must notice the bind failure and retry with fresh ports.
func TestEnsembleBindRetry(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	calls := 0
	pickPortsHook = func(n int) ([]int, error) {
		calls++
		ports, err := pickPorts(n)
		if err == nil && calls == 1 {
			ports[0] = busy.Addr().(*net.TCPAddr).Port
		}
		return ports, err
	}
	defer func() { pickPortsHook = pickPorts }()

	e := StartEnsemble(t, 3, Options{})
	// The first attempt fails; a retry may also lose a freshly picked port
	// to another process on a busy machine, so more than one retry is fine.
	assert.GreaterOrEqual(t, e.Attempts(), 2)
	assert.GreaterOrEqual(t, e.Leader(), 0)
}
