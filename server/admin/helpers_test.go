package admin

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"zkit/server/config"
	"zkit/server/internal/oracle"
	"zkit/server/member"
)

// startZkit runs a standalone zkit server on a free loopback port, with
// the options `zkit serve` derives from the zoo.cfg text (plus dataDir, set
// to a temp dir where the server keeps its data, and clientPort, which the
// bound port 0 replaces).
func startZkit(t *testing.T, cfgText string) (*member.Server, *config.Config) {
	t.Helper()
	text := "dataDir=" + t.TempDir() + "\nclientPort=2181\n" + cfgText
	cfg, err := config.Parse(strings.NewReader(text), "zoo.cfg")
	require.NoError(t, err)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	s := member.New(member.Options{
		ClientAddr:        "127.0.0.1:0",
		TickTime:          ms(cfg.TickTimeMs),
		MinSessionTimeout: ms(cfg.MinSessionTimeoutMs),
		MaxSessionTimeout: ms(cfg.MaxSessionTimeoutMs),
		MaxClientCnxns:    cfg.MaxClientCnxns,
		MaxBuffer:         cfg.JuteMaxBuffer,
		ExtendedTypes:     cfg.ExtendedTypesEnabled,
		FourLetterWords:   FourLetterWords(cfg),
		Storage:           member.StorageOptions{DataDir: cfg.DataDir, DataLogDir: cfg.DataLogDir, NoSync: !cfg.ForceSync},
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, s.Start())
	t.Cleanup(s.Stop)
	return s, cfg
}

// word asks a four-letter word and returns the whole answer.
func word(t *testing.T, addr, cmd string) string {
	t.Helper()
	out, err := oracle.FourLetter(addr, cmd)
	require.NoError(t, err, cmd)
	return out
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

func connect(t *testing.T, addr string, timeout time.Duration) *zk.Conn {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(quietLogger{}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				go func() {
					for range ev {
					}
				}()
				return c
			}
		case <-deadline:
			t.Fatal("no session")
		}
	}
}

// scenario is the standalone scenario of the Apache captures
// (/work/notes/4lw-apache-3.8.0.md): three sessions A (10 s), B (20 s),
// C (30 s); /app, /app/config (set twice), /app/workers with two
// sequential children, ephemerals /app/eph-a (A), /app/eph-b1 and
// /app/eph-b2 (B); data watches: A on /app/config and /app/missing, B on
// /app/config and /app; child watches: A on /app, B on /app/workers, C on /.
type scenario struct {
	a, b, c *zk.Conn
}

func runScenario(t *testing.T, addr string) scenario {
	t.Helper()
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
	_, _, _, err = a.GetW("/app/config")
	require.NoError(t, err)
	_, _, _, err = a.ChildrenW("/app")
	require.NoError(t, err)
	_, _, _, err = a.ExistsW("/app/missing")
	require.NoError(t, err)
	_, _, _, err = b.GetW("/app/config")
	require.NoError(t, err)
	_, _, _, err = b.ExistsW("/app")
	require.NoError(t, err)
	_, _, _, err = b.ChildrenW("/app/workers")
	require.NoError(t, err)
	_, _, _, err = c.ChildrenW("/")
	require.NoError(t, err)
	return scenario{a, b, c}
}

// lines splits an answer into its lines; the answer must end with LF.
func lines(t *testing.T, out string) []string {
	t.Helper()
	require.True(t, strings.HasSuffix(out, "\n"), "answer must end with LF: %q", out)
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// matchLines checks each line against its pattern (anchored).
func matchLines(t *testing.T, cmd string, got []string, patterns ...string) {
	t.Helper()
	require.Len(t, got, len(patterns), "%s: %q", cmd, got)
	for i, p := range patterns {
		require.Regexp(t, regexp.MustCompile("^(?:"+p+")$"), got[i], "%s line %d", cmd, i+1)
	}
}

// stillServes checks that the server answers a client after the words.
func stillServes(t *testing.T, addr string) {
	t.Helper()
	c := connect(t, addr, 10*time.Second)
	p, err := c.Create("/after-4lw", []byte("x"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	d, _, err := c.Get(p)
	require.NoError(t, err)
	require.Equal(t, "x", string(d))
	c.Close()
}
