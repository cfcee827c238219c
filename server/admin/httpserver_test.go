package admin

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/config"
	"zkit/server/member"
)

// httpResult is one HTTP exchange.
type httpResult struct {
	status int
	header http.Header
	body   []byte
}

func httpGet(t *testing.T, url string) httpResult {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err, url)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, url)
	return httpResult{resp.StatusCode, resp.Header, b}
}

// decodeJSON parses a command's answer, numbers kept as json.Number.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m), "%s", b)
	return m
}

// startAdmin runs an AdminServer on a free loopback port for s.
func startAdmin(t *testing.T, cfg *config.Config, s func() *member.Server) *AdminServer {
	t.Helper()
	a := NewAdminServer(AdminOptions{Addr: "127.0.0.1:0", Config: cfg, Server: s})
	require.NoError(t, a.Start())
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// askCommand asks the AdminServer for one command and checks what every
// answer has: 200, application/json, "command" and "error".
func askCommand(t *testing.T, a *AdminServer, name string) map[string]any {
	t.Helper()
	r := httpGet(t, a.URL()+"/"+name)
	require.Equal(t, http.StatusOK, r.status, name)
	require.Equal(t, "application/json", r.header.Get("Content-Type"), name)
	m := decodeJSON(t, r.body)
	require.Contains(t, m, "command", name)
	require.Contains(t, m, "error", name)
	return m
}

func TestAdminIndex(t *testing.T) {
	a := startAdmin(t, nil, nil)
	for _, u := range []string{a.URL(), a.URL() + "/"} {
		r := httpGet(t, u)
		require.Equal(t, http.StatusOK, r.status)
		require.Empty(t, r.header.Get("Content-Type"), "Apache sets none")
		var want strings.Builder
		for _, n := range CommandNames() {
			want.WriteString(`<a href="/commands/` + n + `">` + n + "</a>\n<br/>\n")
		}
		require.Equal(t, want.String(), string(r.body))
	}
	require.True(t, sort.StringsAreSorted(CommandNames()))
	require.Len(t, CommandNames(), 26) // Apache 3.8's set
	require.Equal(t, http.StatusNotFound, httpGet(t, strings.TrimSuffix(a.URL(), "/commands")+"/other").status)
	resp, err := http.Post(a.URL()+"/ruok", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestAdminCommandURL(t *testing.T) {
	s, cfg := startZkit(t, "admin.commandURL=/zk/cmds\n")
	a := NewAdminServer(AdminOptionsFor(cfg, s, nil))
	a.opts.Addr = "127.0.0.1:0"
	require.NoError(t, a.Start())
	defer a.Close()
	require.True(t, strings.HasSuffix(a.URL(), "/zk/cmds"), a.URL())
	require.Contains(t, string(httpGet(t, a.URL()).body), `<a href="/zk/cmds/ruok">ruok</a>`)
	require.Nil(t, askCommand(t, a, "ruok")["error"])
}

func TestAdminUnknownAndNotServing(t *testing.T) {
	a := startAdmin(t, nil, nil)
	m := askCommand(t, a, "nosuch")
	require.Equal(t, "nosuch", m["command"])
	require.Equal(t, "Unknown command: nosuch", m["error"])
	// Without a server: the server-bound commands say so under the name
	// asked for; the others answer.
	for _, name := range []string{"srvr", "stats", "ruok", "dump", "mntr", "leader"} {
		m := askCommand(t, a, name)
		require.Equal(t, name, m["command"])
		require.Equal(t, notServing, m["error"], name)
	}
	for _, name := range []string{"envi", "gtmk", "sysp", "zabstate"} {
		m := askCommand(t, a, name)
		require.Nil(t, m["error"], name)
	}
	require.Equal(t, "environment", askCommand(t, a, "envi")["command"])
}

func TestAdminTraceMask(t *testing.T) {
	a := startAdmin(t, nil, nil)
	defer traceMask.Store(defaultTraceMask)
	m := askCommand(t, a, "stmk")
	require.Equal(t, "set_trace_mask", m["command"])
	require.Equal(t, "setTraceMask requires long traceMask argument", m["error"])
	m = askCommand(t, a, "stmk?traceMask=x")
	require.Equal(t, "setTraceMask requires long traceMask argument, got x", m["error"])
	m = askCommand(t, a, "set_trace_mask?traceMask=42")
	require.Nil(t, m["error"])
	require.Equal(t, json.Number("42"), m["tracemask"])
	require.Equal(t, json.Number("42"), askCommand(t, a, "gtmk")["tracemask"])
}

// TestAdminStandalone runs the capture scenario and checks every command
// by each of its names, and the values the scenario fixes.
func TestAdminStandalone(t *testing.T) {
	text := "tickTime=2000\nmaxClientCnxns=0\n4lw.commands.whitelist=*\nsnapCount=1000\n"
	s, cfg, text := startZkitFile(t, text)
	dir := filepath.Dir(cfg.File)
	sc := runScenario(t, s.Addr().String())
	a := startAdmin(t, cfg, func() *member.Server { return s })

	for _, c := range commands {
		for _, n := range c.names {
			if n == "set_trace_mask" || n == "stmk" {
				continue
			}
			m := askCommand(t, a, n)
			require.Equal(t, c.names[0], m["command"], n)
			if n != "leader" && n != "lead" {
				require.Nil(t, m["error"], n)
			}
		}
	}

	srvr := askCommand(t, a, "srvr")
	require.Equal(t, false, srvr["read_only"])
	require.Equal(t, json.Number("13"), srvr["node_count"])
	stats := srvr["server_stats"].(map[string]any)
	require.Equal(t, "standalone", stats["server_state"])
	require.Equal(t, json.Number("12"), stats["last_processed_zxid"])
	require.Equal(t, json.Number("3"), stats["num_alive_client_connections"])
	require.NotContains(t, srvr, "proposal_stats")

	stat := askCommand(t, a, "stat")
	require.Len(t, stat["connections"], 3)
	require.Equal(t, []any{}, stat["secure_connections"])
	cons := askCommand(t, a, "cons")["connections"].([]any)
	require.Len(t, cons, 3)
	var timeouts []string
	for _, c := range cons {
		timeouts = append(timeouts, string(c.(map[string]any)["session_timeout"].(json.Number)))
	}
	sort.Strings(timeouts)
	require.Equal(t, []string{"10000", "20000", "30000"}, timeouts)

	require.Equal(t, map[string]any{"num_connections": json.Number("2"), "num_paths": json.Number("3"),
		"num_total_watches": json.Number("4"), "command": "watch_summary", "error": nil}, askCommand(t, a, "wchs"))
	wchc := askCommand(t, a, "wchc")["session_id_to_watched_paths"].(map[string]any)
	require.Equal(t, []any{"/app/config", "/app/missing"}, wchc[itoa64(sc.a.SessionID())])
	require.Equal(t, []any{"/app", "/app/config"}, wchc[itoa64(sc.b.SessionID())])
	wchp := askCommand(t, a, "wchp")["path_to_session_ids"].(map[string]any)
	require.Equal(t, []any{json.Number(itoa64(sc.b.SessionID()))}, wchp["/app"])
	dump := askCommand(t, a, "dump")
	eph := dump["session_id_to_ephemeral_paths"].(map[string]any)
	require.Equal(t, []any{"/app/eph-a"}, eph[itoa64(sc.a.SessionID())])
	require.Equal(t, []any{"/app/eph-b1", "/app/eph-b2"}, eph[itoa64(sc.b.SessionID())])
	require.Len(t, dump["expiry_time_to_session_ids"], 3)

	conf := askCommand(t, a, "conf")
	require.Equal(t, json.Number("2000"), conf["tick_time"])
	require.Equal(t, filepath.Join(dir, "data", "zkit"), conf["data_dir"])
	require.Equal(t, text, askCommand(t, a, "icfg")["initial_configuration"])
	require.Equal(t, "server is not initialized", askCommand(t, a, "leader")["error"])
	require.Equal(t, map[string]any{}, askCommand(t, a, "voting_view")["current_config"])
	require.Equal(t, false, askCommand(t, a, "isro")["read_only"])
	require.Equal(t, "*", askCommand(t, a, "sysp")["zookeeper.4lw.commands.whitelist"])

	mntr := askCommand(t, a, "mntr")
	require.Equal(t, "standalone", mntr["server_state"])
	require.Equal(t, json.Number("13"), mntr["znode_count"])
	require.Equal(t, json.Number("3"), mntr["ephemerals_count"])
	require.IsType(t, json.Number(""), mntr["avg_latency"])
	require.Contains(t, string(mntr["avg_latency"].(json.Number)), ".", "a double, as Apache's")

	// The fresh data directory has the snapshot storage takes at start, or
	// none: either way a hex zxid and a time.
	lsnp := askCommand(t, a, "lsnp")
	require.Regexp(t, `^[0-9a-f]+$`, lsnp["zxid"])
	require.IsType(t, json.Number(""), lsnp["timestamp"])
}

func itoa64(n int64) string { return formatLong(n) }

// startZkitFile is startZkit with the config read from a zoo.cfg file
// (dataDir and clientPort prepended), as zkit serve reads it; it returns
// the file's text.
func startZkitFile(t *testing.T, cfgText string) (*member.Server, *config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	text := "dataDir=" + filepath.Join(dir, "data") + "\nclientPort=2181\n" + cfgText
	path := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	cfg, err := config.Load(path)
	require.NoError(t, err)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	s := member.New(member.Options{
		ClientAddr:        "127.0.0.1:0",
		TickTime:          ms(cfg.TickTimeMs),
		MinSessionTimeout: ms(cfg.MinSessionTimeoutMs),
		MaxSessionTimeout: ms(cfg.MaxSessionTimeoutMs),
		MaxClientCnxns:    cfg.MaxClientCnxns,
		Storage:           member.StorageOptions{DataDir: cfg.DataDir},
		FourLetterWords:   FourLetterWords(cfg),
		Logger:            slog.New(slog.DiscardHandler),
	})
	require.NoError(t, s.Start())
	t.Cleanup(s.Stop)
	return s, cfg, text
}
