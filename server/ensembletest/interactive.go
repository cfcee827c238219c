package ensembletest

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Interactive drives a command-line client (zkCli.sh, cli_mt) through its
// standard input, reading its output line by line.
type Interactive struct {
	t     testing.TB
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}

	mu         sync.Mutex
	transcript strings.Builder
}

// StartInteractive starts a client; it is killed when the test ends.
func StartInteractive(t testing.TB, name string, env []string, argv ...string) *Interactive {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Interactive{t: t, name: name, cmd: cmd, stdin: stdin, lines: make(chan string, 4096), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.transcript.WriteString(line + "\n")
			p.mu.Unlock()
			p.lines <- line
		}
		close(p.lines)
	}()
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s transcript:\n%s", name, p.Transcript())
		}
	})
	return p
}

// Send writes one command line.
func (p *Interactive) Send(line string) {
	p.mu.Lock()
	p.transcript.WriteString("» " + line + "\n")
	p.mu.Unlock()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("%s: writing %q: %v", p.name, line, err)
	}
}

// Expect reads lines until one matches re and returns it (and its
// submatches); lines before it are returned too.
func (p *Interactive) Expect(re string, timeout time.Duration) ([]string, []string, error) {
	rx := regexp.MustCompile(re)
	var seen []string
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return nil, seen, fmt.Errorf("%s exited while waiting for /%s/", p.name, re)
			}
			seen = append(seen, line)
			if m := rx.FindStringSubmatch(line); m != nil {
				return m, seen, nil
			}
		case <-deadline:
			return nil, seen, fmt.Errorf("%s: no line matching /%s/ within %v", p.name, re, timeout)
		}
	}
}

// MustExpect is Expect that fails the test.
func (p *Interactive) MustExpect(re string, timeout time.Duration) []string {
	p.t.Helper()
	m, _, err := p.Expect(re, timeout)
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

// Transcript is everything sent and read so far.
func (p *Interactive) Transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.transcript.String()
}

// Wait waits for the client to exit.
func (p *Interactive) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %v", p.name, timeout)
	}
}
