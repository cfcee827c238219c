package clitest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/internal/oracle"
	"zkit/server/member"
)

// The clients, as Debian installs them.
const (
	zkCliPath = "/usr/share/zookeeper/bin/zkCli.sh"
	cliMTPath = "/usr/lib/zookeeper/bin/cli_mt"
)

// servers is a zkit server and an Apache one, configured alike: tickTime
// 2000, TTL and container nodes enabled (extendedTypesEnabled=true).
type servers struct {
	apache, zkit string // client addresses
}

// startServers starts both, concurrently (the JVM takes a second).
func startServers(t *testing.T) servers {
	t.Helper()
	needClients(t)
	var ap *oracle.Server
	var apErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ap, apErr = oracle.Launch(oracle.Options{Config: map[string]string{"extendedTypesEnabled": "true"}})
	}()
	zs := member.New(member.Options{
		ClientAddr:    "127.0.0.1:0",
		TickTime:      2 * time.Second,
		ExtendedTypes: true,
		Logger:        slog.New(slog.DiscardHandler),
	})
	require.NoError(t, zs.Start())
	t.Cleanup(zs.Stop)
	wg.Wait()
	require.NoError(t, apErr)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Apache ZooKeeper %s log tail:\n%s", ap.Addr(), ap.LogTail(40))
		}
		ap.Stop()
	})
	return servers{apache: ap.Addr(), zkit: zs.Addr().String()}
}

// needClients skips in -short mode: every test here runs JVMs (Apache
// ZooKeeper, zkCli.sh) or cli_mt. Otherwise a missing client fails the
// test, as a missing Apache ZooKeeper fails server/internal/oracle.
func needClients(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Apache ZooKeeper, zkCli.sh and cli_mt")
	}
	for _, p := range []string{zkCliPath, cliMTPath} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%v; install them: apt-get install -y zookeeper zookeeper-bin", err)
		}
	}
}

// onBoth runs f for Apache and zkit concurrently and returns their results.
func onBoth[T any](s servers, f func(addr string) T) (apache, zkit T) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); apache = f(s.apache) }()
	zkit = f(s.zkit)
	wg.Wait()
	return apache, zkit
}

// digest is the digest scheme's id for user:password
// (DigestAuthenticationProvider.generateDigest).
func digest(userPass string) string {
	user, _, _ := strings.Cut(userPass, ":")
	h := sha1.Sum([]byte(userPass))
	return user + ":" + base64.StdEncoding.EncodeToString(h[:])
}

// ---------------------------------------------------------------- zkCli.sh

// zkCliResult is one zkCli.sh run: the output of each command (stdout and
// stderr as the JVM wrote them), plus what came before the first command
// and after the last.
type zkCliResult struct {
	pre, post string
	parts     []string
	err       error
}

// zkCliMarker ends each command's output: zkCli runs the commands it
// reads from stdin one after the other, and "sync /" prints "Sync is OK"
// once the server answered it — through the client's event thread, which by then
// has printed every watch event that arrived before the answer.
var zkCliMarker = regexp.MustCompile(`^(Sync is OK|Sync has failed\. rc=-?\d+)$`)

// runZkCli runs zkCli.sh -server addr with cmds on stdin, a "sync /" after
// each (and one before the first), in one JVM; or, given args, the one
// command they make.
func runZkCli(addr string, cmds []string, args ...string) zkCliResult {
	var in strings.Builder
	in.WriteString("sync /\n")
	for _, c := range cmds {
		in.WriteString(c + "\n")
		if !isZkCliSync(c) {
			in.WriteString("sync /\n")
		}
	}
	out, err := runJava(addr, in.String(), args...)
	if len(args) > 0 {
		// One command from the arguments; stdin is not read. The exit
		// status tells whether the command succeeded.
		return zkCliResult{pre: out + fmt.Sprintf("(exit: %v)\n", err)}
	}
	if err != nil {
		return zkCliResult{err: fmt.Errorf("%w; output:\n%s", err, out)}
	}
	// A sync fails when the session is gone (after addauth with an
	// unknown scheme: AuthFailed) or closed ("Not connected", like any
	// other command): then the parts no longer match the commands one to
	// one, but they are still compared in order.
	var parts []string
	var cur strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		cur.WriteString(l)
		if zkCliMarker.MatchString(strings.TrimSuffix(l, "\n")) {
			parts = append(parts, cur.String())
			cur.Reset()
		}
	}
	parts = append(parts, cur.String())
	if len(parts) < 2 {
		return zkCliResult{err: fmt.Errorf("zkCli: no marker; output:\n%s", out)}
	}
	return zkCliResult{pre: parts[0], post: parts[len(parts)-1], parts: parts[1 : len(parts)-1]}
}

// isZkCliSync reports whether a scripted command is itself a sync (whose
// "Sync is OK" serves as its marker).
func isZkCliSync(c string) bool { return strings.HasPrefix(c, "sync ") }

// runJava runs zkCli.sh with stdin and both output streams on one file, so
// that what the JVM wrote keeps its order.
func runJava(addr, stdin string, args ...string) (string, error) {
	f, err := os.CreateTemp("", "zkcli-out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, zkCliPath, append([]string{"-server", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	// A short-lived JVM: skip the optimizing compiler.
	cmd.Env = append(os.Environ(), "CLIENT_JVMFLAGS=-XX:TieredStopAtLevel=1 -Xshare:auto")
	stdinW, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	// zkCli exits at the end of its input without waiting for the
	// callbacks of asynchronous commands (sync), so stdin stays open until
	// every sync has printed its answer (or a while has passed).
	_, _ = io.WriteString(stdinW, stdin)
	if len(args) == 0 {
		awaitMarkers(f.Name(), strings.Count("\n"+stdin, "\nsync "), 20*time.Second)
	}
	stdinW.Close()
	runErr := cmd.Wait()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return "", err
	}
	return string(b), runErr
}

// awaitMarkers waits until the file holds n sync answers, or its output
// has not grown for two seconds (a closed session answers "Not
// connected" instead), or for d.
func awaitMarkers(name string, n int, d time.Duration) {
	lastLen, lastGrow := -1, time.Now()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(name)
		got := 0
		for _, l := range strings.Split(string(b), "\n") {
			if zkCliMarker.MatchString(l) {
				got++
			}
		}
		if got >= n {
			return
		}
		if len(b) != lastLen {
			lastLen, lastGrow = len(b), time.Now()
		} else if len(b) > 0 && time.Since(lastGrow) > 2*time.Second {
			return
		}
	}
}

// Masks for what legitimately differs between two servers: dates (times
// of creation and modification), session ids (time-based), ports.
var (
	javaDate  = regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d:\d\d \S+ (\d{4})\b`)
	cDate     = regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d (\d{4})\b`)
	sessionID = regexp.MustCompile(`\b(0x)?[0-9a-f]{12,16}\b`)
	port      = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	// The election port of a server.N line, after its quorum port.
	electionPort = regexp.MustCompile(`127\.0\.0\.1:PORT:\d+`)
	msec         = regexp.MustCompile(`^time = \d+ msec$`)
)

// maskLine masks one output line. The epoch (a node never written, such as
// /zookeeper/config) stays as it is.
func maskLine(l string) string {
	mask := func(re *regexp.Regexp) {
		l = re.ReplaceAllStringFunc(l, func(m string) string {
			if strings.HasSuffix(m, "1970") {
				return m
			}
			return "DATE"
		})
	}
	mask(javaDate)
	mask(cDate)
	l = sessionID.ReplaceAllString(l, "SID")
	l = port.ReplaceAllString(l, "127.0.0.1:PORT")
	l = electionPort.ReplaceAllString(l, "127.0.0.1:PORT:PORT")
	if msec.MatchString(l) {
		l = "time = N msec"
	}
	return l
}

// normZkCli masks a command's output and moves the watch events it
// contains, which zkCli's event thread prints whenever they arrive, to its
// end in a fixed order.
func normZkCli(part string) []string {
	var out, events []string
	for _, l := range strings.Split(strings.TrimSuffix(part, "\n"), "\n") {
		switch {
		case l == "WATCHER::" || strings.HasPrefix(l, "WatchedEvent "):
			// Each is printed as "\n" + text: drop that empty line too.
			if n := len(out); n > 0 && out[n-1] == "" {
				out = out[:n-1]
			}
			if l != "WATCHER::" {
				events = append(events, "EVENT "+maskLine(l))
			}
		case strings.HasPrefix(l, "SLF4J: "):
			// The client's logging set-up, printed by whichever thread
			// logs first: not part of any command's output.
		default:
			out = append(out, maskLine(l))
		}
	}
	sort.Strings(events)
	return append(out, events...)
}

// deviation is a documented difference between zkit and Apache 3.8.0 in
// one command's output: zkit answers as Apache 3.9 does.
type deviation struct {
	cmd  string // the scripted command
	why  string
	zkit func(apache []string) []string // what zkit prints instead
}

// deviations are the known ones, by command.
type deviations map[string]deviation

// compareZkCli runs the same zkCli.sh session against both servers and
// reports every command whose normalized output differs.
func compareZkCli(t *testing.T, s servers, cmds []string, args ...string) {
	t.Helper()
	compareZkCliAllowing(t, s, nil, cmds, args...)
}

// compareZkCliAllowing is compareZkCli where the commands in dev have the
// output dev gives them.
func compareZkCliAllowing(t *testing.T, s servers, dev deviations, cmds []string, args ...string) {
	t.Helper()
	compareZkCliFor(t, s, dev, cmds, func(addr string) []string { return expand(cmds, addr) }, args...)
}

// compareZkCliWith is compareZkCli where each side gets its own commands
// (addresses of its own members, say).
func compareZkCliWith(t *testing.T, s servers, cmdsFor func(addr string) []string, args ...string) {
	t.Helper()
	compareZkCliFor(t, s, nil, cmdsFor(s.apache), cmdsFor, args...)
}

func compareZkCliFor(t *testing.T, s servers, dev deviations, cmds []string, cmdsFor func(addr string) []string, args ...string) {
	t.Helper()
	a, z := onBoth(s, func(addr string) zkCliResult { return runZkCli(addr, cmdsFor(addr), args...) })
	require.NoError(t, a.err, "zkCli against Apache")
	require.NoError(t, z.err, "zkCli against zkit")
	same := func(what string, ap, zk []string) {
		t.Helper()
		if os.Getenv("CLITEST_DEBUG") != "" {
			t.Logf("%s\n  apache: %q\n  zkit:   %q", what, ap, zk)
		}
		if !equal(ap, zk) {
			t.Errorf("zkCli %s:\n  apache: %q\n  zkit:   %q", what, ap, zk)
		}
	}
	ap, zp := normZkCli(a.pre), normZkCli(z.pre)
	if len(args) > 0 {
		// A one-command run exits once the command is done, and the
		// event thread may or may not have printed the connection's
		// state change by then: ZooKeeperMain's watcher prints it
		// asynchronously and System.exit does not wait for it.
		ap, zp = withoutStateEvents(ap), withoutStateEvents(zp)
	}
	same("(start)", ap, zp)
	if len(a.parts) != len(z.parts) {
		t.Errorf("zkCli: %d command outputs from Apache, %d from zkit:\n  apache: %q\n  zkit:   %q",
			len(a.parts), len(z.parts), a.parts, z.parts)
		return
	}
	for i := range a.parts {
		what := fmt.Sprintf("output %d", i+1)
		want, got := normZkCli(a.parts[i]), normZkCli(z.parts[i])
		if len(a.parts) == len(cmds) && strings.HasPrefix(cmds[i], "getEphemerals") {
			want[0], got[0] = sortedList(want[0]), sortedList(got[0]) // see unordered
		}
		if len(a.parts) == len(cmds) {
			what = fmt.Sprintf("[%d] %s", i+1, cmds[i])
			if d, ok := dev[cmds[i]]; ok {
				want = d.zkit(want)
				what += " (deviation: " + d.why + ")"
			}
		}
		same(what, want, got)
	}
	same("(end)", normZkCli(a.post), normZkCli(z.post))
}

// withoutStateEvents drops the events of a connection's state changes
// (type:None) from normZkCli's lines; node events stay.
func withoutStateEvents(ls []string) []string {
	var out []string
	for _, l := range ls {
		if strings.HasPrefix(l, "EVENT WatchedEvent state:") && strings.HasSuffix(l, " type:None path:null") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// expand replaces ADDR in the commands with the server's address.
func expand(cmds []string, addr string) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = strings.ReplaceAll(c, "ADDR", addr)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ------------------------------------------------------------------ cli_mt

// cliMTResult is one cli_mt run: what it wrote to stderr (where it prints
// nearly everything) for each command, and its whole stdout (myid).
type cliMTResult struct {
	pre, post string
	parts     []string
	stdout    string
	err       error
}

// runCliMT drives cli_mt interactively: it must not see the end of its
// input before every answer arrived (it exits at once). After each
// command it is sent "sync /zkit-marker-N", whose completion — the C
// client completes requests, and delivers watch events, in the order the
// server answered — closes the command's output. Commands wait for the
// session.
func runCliMT(addr string, cmds []string) (res cliMTResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliMTPath, addr)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return cliMTResult{err: err}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return cliMTResult{err: err}
	}
	if err := cmd.Start(); err != nil {
		return cliMTResult{err: err}
	}
	var mu sync.Mutex
	var buf strings.Builder
	grew := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(stderr)
		for {
			line, err := r.ReadString('\n')
			mu.Lock()
			buf.WriteString(line)
			mu.Unlock()
			select {
			case grew <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	waitFor := func(s string) (string, error) {
		deadline := time.After(15 * time.Second)
		for {
			mu.Lock()
			text := buf.String()
			mu.Unlock()
			if i := strings.Index(text, s); i >= 0 {
				return text[:i+len(s)], nil
			}
			select {
			case <-grew:
			case <-done:
				mu.Lock()
				text = buf.String()
				mu.Unlock()
				if i := strings.Index(text, s); i >= 0 {
					return text[:i+len(s)], nil
				}
				return text, fmt.Errorf("cli_mt exited before %q; stderr:\n%s", s, text)
			case <-deadline:
				return text, fmt.Errorf("cli_mt: no %q within 15s; stderr:\n%s", s, text)
			}
		}
	}
	fail := func(err error) cliMTResult {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return cliMTResult{err: err}
	}
	text, err := waitFor("Got a new session id: ")
	if err != nil {
		return fail(err)
	}
	if text, err = waitFor("\n"); err != nil { // the end of that line
		return fail(err)
	}
	_ = text
	mu.Lock()
	res.pre = buf.String()
	mu.Unlock()
	last := len(res.pre)
	for i, c := range cmds {
		marker := fmt.Sprintf("/zkit-marker-%d", i+1)
		if _, err := io.WriteString(stdin, c+"\nsync "+marker+"\n"); err != nil {
			return fail(err)
		}
		end := "\tname = " + marker + "\n"
		text, err := waitFor(end)
		if err != nil {
			return fail(fmt.Errorf("after %q: %w", c, err))
		}
		part := text[last:]
		part = strings.Replace(part, "["+marker+"]: rc = 0\n"+end, "", 1)
		res.parts = append(res.parts, part)
		last = len(text)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return cliMTResult{err: fmt.Errorf("cli_mt: %w", err)}
	}
	<-done
	res.post = buf.String()[last:]
	res.stdout = stdout.String()
	return res
}

// normCliMT masks a command's output. The children an ls or ls2 prints
// are sorted: see unordered.
func normCliMT(cmd, part string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(part, "\n"), "\n") {
		out = append(out, maskLine(l))
	}
	if c := strings.TrimPrefix(cmd, "a"); strings.HasPrefix(c, "ls ") || strings.HasPrefix(c, "ls2 ") {
		// "<path>: rc = 0", a tab-indented line per child, "time = ...".
		for i := 0; i < len(out); i++ {
			if !strings.Contains(out[i], ": rc = ") {
				continue
			}
			j := i + 1
			for j < len(out) && strings.HasPrefix(out[j], "\t") {
				j++
			}
			sort.Strings(out[i+1 : j])
			i = j
		}
	}
	return out
}

// unordered: Apache ZooKeeper answers getChildren and getEphemerals in the
// iteration order of a java.util.HashSet (a node's children, a session's
// ephemerals); zkit answers them sorted. ZooKeeper's API promises no order
// ("The list of children returned is not sorted and no guarantee is
// provided as to its natural or lexical order"), zkCli's ls sorts, and
// server/compat compares both lists as sorted sets; so the lists are
// compared as sets here too: the children cli_mt's ls and ls2 print, the
// list zkCli's getEphemerals prints.
func sortedList(line string) string {
	inner, ok := strings.CutPrefix(line, "[")
	if inner, ok2 := strings.CutSuffix(inner, "]"); ok && ok2 && inner != "" {
		items := strings.Split(inner, ", ")
		sort.Strings(items)
		return "[" + strings.Join(items, ", ") + "]"
	}
	return line
}

// compareCliMT runs the same cli_mt session against both servers and
// reports every command whose normalized output differs.
func compareCliMT(t *testing.T, s servers, cmds []string) {
	t.Helper()
	a, z := onBoth(s, func(addr string) cliMTResult { return runCliMT(addr, cmds) })
	require.NoError(t, a.err, "cli_mt against Apache")
	require.NoError(t, z.err, "cli_mt against zkit")
	same := func(what string, ap, zk []string) {
		t.Helper()
		if os.Getenv("CLITEST_DEBUG") != "" {
			t.Logf("%s\n  apache: %q\n  zkit:   %q", what, ap, zk)
		}
		if !equal(ap, zk) {
			t.Errorf("cli_mt %s:\n  apache: %q\n  zkit:   %q", what, ap, zk)
		}
	}
	same("(start)", normCliMT("", a.pre), normCliMT("", z.pre))
	for i, c := range cmds {
		same(fmt.Sprintf("[%d] %s", i+1, c), normCliMT(c, a.parts[i]), normCliMT(c, z.parts[i]))
	}
	same("(end)", normCliMT("", a.post), normCliMT("", z.post))
	same("(stdout)", normCliMT("", a.stdout), normCliMT("", z.stdout))
}
