package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"zkit/server/config"
)

var (
	zkitOnce sync.Once
	zkitBin  string
	zkitErr  error
	zkitDir  string // removed by TestMain
)

// buildZkit builds the zkit binary once per test run (the ensemble target
// runs it as separate processes). With a warm build cache it takes about a
// second.
func buildZkit(t *testing.T) string {
	t.Helper()
	zkitOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if zkitDir, zkitErr = os.MkdirTemp("", "zkit-bench-test-"); zkitErr != nil {
			return
		}
		zkitBin = filepath.Join(zkitDir, "zkit")
		if out, err := exec.Command(goBin, "build", "-o", zkitBin, "zkit/server/cmd/zkit").CombinedOutput(); err != nil {
			zkitErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if zkitErr != nil {
		t.Fatal(zkitErr)
	}
	return zkitBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if zkitDir != "" {
		os.RemoveAll(zkitDir)
	}
	os.Exit(code)
}

// The ensemble target: three `zkit member` processes that serve with one
// leader; load spread over them has its CPU summed over the three PIDs; the
// leader is found with srvr and killed by PID, and a survivor takes a write;
// Stop ends the rest and removes the directory.
func TestZkitEnsembleTarget(t *testing.T) {
	bin := buildZkit(t)
	tmp := t.TempDir()
	l := ZkitLauncher{Command: []string{bin, "serve"}, TempDir: tmp}
	t0 := time.Now()
	tg, err := l.Launch(Spec{Members: 3, ForceSync: false, TickTime: 2000})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			tg.Stop()
		}
	}()
	t.Logf("3 zkit members serving after %v: %v (pids %v)", time.Since(t0).Round(time.Millisecond), tg.Hosts(), tg.PIDs())
	e := tg.(*zkitEnsemble)
	if len(tg.Hosts()) != 3 || len(tg.PIDs()) != 3 {
		t.Fatalf("hosts %v pids %v", tg.Hosts(), tg.PIDs())
	}
	if d := e.Describe(); !strings.Contains(d, " member --id 3 ") || !strings.Contains(d, "--no-sync") || !strings.Contains(d, "--tick-time 2000ms") {
		t.Errorf("member command lines:\n%s", d)
	}
	res, err := Run(Config{Hosts: tg.Hosts(), Op: OpSet, Clients: 6, Inflight: 2, Size: 64, Znodes: 20,
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, ServerPIDs: tg.PIDs(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Server CPU comes from /proc in clock ticks (10 ms): on a loaded
	// machine a short window may see none, so only its presence per
	// member is checked here.
	if res.Ops == 0 || res.Errors != 0 || len(res.ServerCPUByPID) != 3 || res.ServerCPU < 0 {
		t.Fatalf("set on the ensemble: %+v", res)
	}
	t.Logf("set x6: %.0f ops/s, %.1f µs CPU/op (per member %s)", res.OpsPerSec, res.ServerCPUPerOp, fmtPerMember(res))
	fo := tg.(Failover)
	leader := fo.Leader()
	if leader < 0 {
		t.Fatal("no leader")
	}
	d, err := failover(tg, fo)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("failover after killing member %d: %v", leader+1, d.Round(time.Millisecond))
	if len(tg.PIDs()) != 2 {
		t.Errorf("after the kill: pids %v", tg.PIDs())
	}
	if err := syscall.Kill(e.members[leader].pid(), 0); err == nil {
		t.Errorf("the killed leader (pid %d) still runs", e.members[leader].pid())
	}
	pids := tg.PIDs()
	stopped = true
	ts := time.Now()
	if err := tg.Stop(); err != nil {
		t.Error(err)
	}
	t.Logf("stopped in %v", time.Since(ts).Round(time.Millisecond))
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("pid %d runs after Stop", pid)
		}
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("Stop left %v in the temp dir", ents)
	}
}

// `zkit ensemble -n 3` as one process: its connect string names three
// members, and it takes a write.
func TestZkitOneProcessEnsemble(t *testing.T) {
	bin := buildZkit(t)
	tmp := t.TempDir()
	l := ZkitLauncher{Command: []string{bin, "serve"}, TempDir: tmp}
	t0 := time.Now()
	tg, err := l.LaunchOneProcess(Spec{Members: 3, TickTime: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if err := firstWrite(tg.Hosts(), "/x", 10*time.Second); err != nil {
		tg.Stop()
		t.Fatal(err)
	}
	t.Logf("zkit ensemble -n 3: first write after %v", time.Since(t0).Round(time.Millisecond))
	if len(tg.Hosts()) != 3 || len(tg.PIDs()) != 1 {
		t.Errorf("hosts %v pids %v", tg.Hosts(), tg.PIDs())
	}
	if err := tg.Stop(); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("Stop left %v in the temp dir", ents)
	}
}

// The zoo.cfg variant (used for profiling): each member's config loads as
// an ensemble member with the oracle's limits, and a profiled ensemble
// writes one profile per member at Stop.
func TestZkitEnsembleZooCfg(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "myid"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "zoo.cfg")
	servers := []string{"server.1=127.0.0.1:3001:4001", "server.2=127.0.0.1:3002:4002", "server.3=127.0.0.1:3003:4003"}
	if err := os.WriteFile(path, []byte(ZkitEnsembleConfig(Spec{Members: 3, ForceSync: true, TickTime: 2000}, data, servers)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Standalone() || cfg.MyID != 2 || cfg.InitLimit != ensembleInitLimit || cfg.SyncLimit != ensembleSyncLimit || !cfg.ForceSync || cfg.TickTimeMs != 2000 {
		t.Errorf("loaded %+v", cfg)
	}
	if testing.Short() {
		return
	}
	bin := buildZkit(t)
	tmp := t.TempDir()
	prof := t.TempDir()
	l := ZkitLauncher{Command: []string{bin, "serve"}, TempDir: tmp}
	tg, err := l.Launch(Spec{Members: 3, ForceSync: false, TickTime: 2000,
		ServeArgs: []string{"--cpuprofile", filepath.Join(prof, "m"+MemberToken+".cpu.pprof")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := firstWrite(tg.Hosts(), "/x", 10*time.Second); err != nil {
		t.Error(err)
	}
	if l := tg.(Failover).Leader(); l < 0 {
		t.Error("no leader")
	}
	if err := tg.Stop(); err != nil {
		t.Error(err)
	}
	for i := 1; i <= 3; i++ {
		if st, err := os.Stat(filepath.Join(prof, "m"+strconv.Itoa(i)+".cpu.pprof")); err != nil || st.Size() == 0 {
			t.Errorf("member %d's profile: %v", i, err)
		}
	}
}
