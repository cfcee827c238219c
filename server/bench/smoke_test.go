package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"zkit/server/internal/zkclient"
	"zkit/server/member"
	"zkit/server/proto"
)

// TestSmoke is the load generator's smoke run (about 10 s; `make test` runs
// it through `go test ./...`): every workload against an in-process zkit
// server, the last one through the command line, asserting that requests
// flowed, none failed, and the percentiles are sane. The server runs in this
// process, so the server CPU figures are this process's, which exercises the
// /proc readers on a busy process.
func TestSmoke(t *testing.T) {
	srv := member.New(member.Options{ClientAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	addr := srv.Addr().String()
	window := 2 * time.Second
	if testing.Short() {
		window = 300 * time.Millisecond
	}
	check := func(t *testing.T, r *Result) {
		t.Helper()
		t.Logf("%s: %d ops, %.0f ops/s, p50 %.0fµs p99 %.0fµs p99.9 %.0fµs max %.0fµs, %.1f µs CPU/op, RSS %s",
			r.Op, r.Ops, r.OpsPerSec, r.P50, r.P99, r.P999, r.Max, r.ServerCPUPerOp, fmtBytes(r.ServerRSS))
		if r.Ops <= 0 || r.OpsPerSec <= 0 {
			t.Errorf("%s: no operations completed", r.Op)
		}
		if r.Errors != 0 {
			t.Errorf("%s: %d errors %v", r.Op, r.Errors, r.ErrorCodes)
		}
		if !(0 < r.P50 && r.P50 <= r.P99 && r.P99 <= r.P999 && r.P999 <= r.Max) {
			t.Errorf("%s: percentiles out of order: p50 %v p99 %v p99.9 %v max %v", r.Op, r.P50, r.P99, r.P999, r.Max)
		}
		if r.P99 > 2e6 {
			t.Errorf("%s: p99 %.0fµs is over 2 s on a local server", r.Op, r.P99)
		}
		if r.Window < window.Seconds()*0.9 || r.Window > window.Seconds()*1.5 {
			t.Errorf("%s: measured %.3fs, asked for %v", r.Op, r.Window, window)
		}
		if r.ServerCPUPerOp <= 0 || r.ServerRSS <= 0 {
			t.Errorf("%s: server CPU/op %v, RSS %v", r.Op, r.ServerCPUPerOp, r.ServerRSS)
		}
	}
	for _, op := range []string{OpCreate, OpSet, OpGet} {
		t.Run(op, func(t *testing.T) {
			r, err := Run(Config{
				Hosts: []string{addr}, Op: op, Clients: 8, Inflight: 4, Size: 1024, Znodes: 200,
				Duration: window, Warmup: 200 * time.Millisecond, Cleanup: true, Seed: 7,
				ServerPIDs: []int{os.Getpid()},
			})
			if err != nil {
				t.Fatal(err)
			}
			check(t, r)
		})
	}
	t.Run("create cleans up", func(t *testing.T) {
		c, err := zkclient.Connect(addr, zkclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var resp proto.ChildrenResponse
		h, err := c.Call(proto.OpGetChildren, &proto.PathWatchRequest{Path: "/zkit-bench/c"}, &resp)
		if err != nil || h.Err != proto.ErrOK {
			t.Fatalf("getChildren: %v %v", err, h.Err)
		}
		if len(resp.Children) != 0 {
			t.Errorf("%d znodes left after the create run's cleanup, e.g. %s", len(resp.Children), resp.Children[0])
		}
	})
	t.Run("mixed via the command line", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := Main([]string{"--hosts", addr, "--op", "mixed", "--read-ratio", "0.9", "--clients", "8", "--inflight", "4",
			"--znodes", "200", "--duration", window.String(), "--warmup", "200ms", "--server-pid", strconv.Itoa(os.Getpid())}, &out, &errOut)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		line, table, _ := strings.Cut(out.String(), "\n")
		var r Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("first line is not a JSON result: %q: %v", line, err)
		}
		if r.Op != OpMixed || r.ReadRatio != 0.9 {
			t.Errorf("result says op %q read ratio %v", r.Op, r.ReadRatio)
		}
		check(t, &r)
		if !strings.Contains(table, "p99.9") || !strings.Contains(table, "mixed 90%r") {
			t.Errorf("no human table after the JSON line:\n%s", table)
		}
	})
}
