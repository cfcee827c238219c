package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"zkit/server/proto"
)

// Workloads of the load generator.
const (
	OpCreate = "create" // create new persistent znodes of Size bytes under Root/c
	OpSet    = "set"    // setData of Size bytes on a random one of Znodes znodes
	OpGet    = "get"    // getData of a random one of Znodes znodes
	OpMixed  = "mixed"  // get with probability ReadRatio, else set
)

// Ops lists the workloads in their usual order.
var Ops = []string{OpCreate, OpSet, OpGet, OpMixed}

// Config describes one load-generator run.
type Config struct {
	Hosts     []string // host:port of the servers; client i uses Hosts[i % len]
	Clients   int      // sessions, one TCP connection each
	Inflight  int      // requests outstanding per session
	Op        string   // create, set, get or mixed
	ReadRatio float64  // share of reads in the mixed workload
	Size      int      // data bytes per create or setData
	Znodes    int      // znodes that set, get and mixed choose from
	Duration  time.Duration
	Warmup    time.Duration // load before the measured window, not counted
	Seed      uint64        // seeds each client's choice of znodes and ops
	Root      string        // parent of everything the run creates
	// Count, when positive, ends the run after that many requests instead of
	// after Duration (a load phase, e.g. 100,000 creates); the window is then
	// from the end of the warmup to the last reply.
	Count int64
	// Cleanup deletes, after a create run, the znodes it created (so that
	// rounds do not pile up data); it is not measured.
	Cleanup bool
	// ServerPIDs are the local server processes whose CPU time (over the
	// measured window) and RSS (at its end) the result reports.
	ServerPIDs     []int
	SessionTimeout time.Duration
	Label          string // free text carried into the result (e.g. "zkit")
}

func (c *Config) defaults() {
	if c.Clients <= 0 {
		c.Clients = 1
	}
	if c.Inflight <= 0 {
		c.Inflight = 1
	}
	if c.Op == "" {
		c.Op = OpMixed
	}
	if c.Znodes <= 0 {
		c.Znodes = 1000
	}
	if c.Root == "" {
		c.Root = "/zkit-bench"
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 30 * time.Second
	}
	if c.Duration <= 0 && c.Count <= 0 {
		c.Duration = 10 * time.Second
	}
}

func (c *Config) validate() error {
	if len(c.Hosts) == 0 {
		return errors.New("no hosts")
	}
	switch c.Op {
	case OpCreate, OpSet, OpGet, OpMixed:
	default:
		return fmt.Errorf("unknown op %q (want create, set, get or mixed)", c.Op)
	}
	if c.ReadRatio < 0 || c.ReadRatio > 1 {
		return fmt.Errorf("read ratio %v is not within [0, 1]", c.ReadRatio)
	}
	if c.Size < 0 || c.Size > 1<<20 {
		return fmt.Errorf("size %d is not within [0, 1 MiB]", c.Size)
	}
	if err := proto.ValidatePath(c.Root); err != nil || c.Root == "/" {
		return fmt.Errorf("root %q: not a valid znode path below /", c.Root)
	}
	return nil
}

type pending struct {
	xid  int32
	sent time.Time
}

// client is one session driven by one goroutine, which both writes and
// reads: it fills the window of Inflight requests into its write buffer,
// sends them with one write, then reads replies, taking every reply the read
// buffer already holds before it refills the window. Replies come in request
// order (ZooKeeper answers a session's requests in FIFO order), so the
// pending requests are a ring; latency runs from the moment a request was
// built to the moment its reply was read. No channels, no locks, no
// allocation per request.
type client struct {
	r      *runner
	idx    int
	s      *session
	rng    *rand.Rand
	ring   []pending // pending requests, oldest at head
	head   int
	n      int // requests outstanding
	hist   Histogram
	ops    int64 // OK replies within the window
	errs   map[proto.Err]int64
	errN   int64 // error replies and lost requests, whole run
	creats int64 // creates sent (their sequence numbers are 0..creats-1)
	xid    int32
	err    error // connection failure
}

type runner struct {
	cfg        Config
	data       []byte
	paths      []string
	prefix     string // create path prefix: Root/c/<tag>-
	start, end time.Time
	issued     atomic.Int64 // requests issued, for Count
}

// Result is what one run measured. Latencies are in microseconds.
type Result struct {
	Label     string  `json:"label,omitempty"`
	Op        string  `json:"op"`
	Hosts     string  `json:"hosts"`
	Clients   int     `json:"clients"`
	Inflight  int     `json:"inflight"`
	Size      int     `json:"size"`
	ReadRatio float64 `json:"read_ratio,omitempty"`
	Znodes    int     `json:"znodes,omitempty"`
	Window    float64 `json:"window_s"` // seconds measured
	Ops       int64   `json:"ops"`      // OK replies within the window
	OpsPerSec float64 `json:"ops_per_s"`
	Errors    int64   `json:"errors"` // error replies and lost requests, whole run
	// ErrorCodes counts error replies by ZooKeeper error code.
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`
	P50        float64          `json:"p50_us"`
	P99        float64          `json:"p99_us"`
	P999       float64          `json:"p999_us"`
	Mean       float64          `json:"mean_us"`
	Max        float64          `json:"max_us"`
	// Server figures, when ServerPIDs were given: CPU (utime+stime summed
	// over the processes) within the window, per OK op, and RSS at its end.
	ServerPIDs     []int   `json:"server_pids,omitempty"`
	ServerCPU      float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPerOp float64 `json:"server_cpu_us_per_op,omitempty"`
	ServerRSS      int64   `json:"server_rss_bytes,omitempty"`
	// ServerCPUByPID is each process's share of ServerCPU (seconds), in
	// the order of ServerPIDs, when there are several (ensemble members).
	ServerCPUByPID []float64 `json:"server_cpu_s_by_pid,omitempty"`
	// ClientCPUPerOp is this load generator's own CPU per op in the window:
	// how much of the machine the client takes.
	ClientCPUPerOp float64 `json:"client_cpu_us_per_op"`
	Start          string  `json:"start"` // RFC 3339 time of the window's start
	Err            string  `json:"error,omitempty"`
}

// Run performs one load-generator run.
func Run(cfg Config) (*Result, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg}
	r.data = make([]byte, cfg.Size)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	for i := range r.data {
		r.data[i] = 'a' + byte(rng.IntN(26))
	}
	tag := strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid())
	r.prefix = cfg.Root + "/c/" + tag + "-"
	if err := r.setup(); err != nil {
		return nil, fmt.Errorf("setting up %s: %w", cfg.Root, err)
	}

	clients := make([]*client, cfg.Clients)
	var wg sync.WaitGroup
	dialErr := make([]error, cfg.Clients)
	for i := range clients {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := dial(cfg.Hosts[i%len(cfg.Hosts)], cfg.SessionTimeout)
			if err != nil {
				dialErr[i] = err
				return
			}
			c := &client{
				r: r, idx: i, s: s,
				rng:  rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)),
				ring: make([]pending, cfg.Inflight),
				errs: map[proto.Err]int64{},
			}
			clients[i] = c
		}(i)
	}
	wg.Wait()
	if err := errors.Join(dialErr...); err != nil {
		for _, c := range clients {
			if c != nil {
				c.s.nc.Close()
			}
		}
		return nil, fmt.Errorf("connecting: %w", err)
	}

	now := time.Now()
	r.start = now.Add(cfg.Warmup)
	if cfg.Count > 0 {
		r.end = now.Add(100 * 365 * 24 * time.Hour)
	} else {
		r.end = r.start.Add(cfg.Duration)
	}
	deadline := r.end.Add(time.Minute)
	if cfg.Count > 0 {
		deadline = now.Add(time.Hour)
	}
	for _, c := range clients {
		_ = c.s.nc.SetDeadline(deadline)
		wg.Add(1)
		go func() { defer wg.Done(); c.loop() }()
	}

	var before, after Usage
	var cliBefore, cliAfter time.Duration
	var sampleErr error
	time.Sleep(time.Until(r.start))
	if len(cfg.ServerPIDs) > 0 {
		before, sampleErr = SampleProcs(cfg.ServerPIDs)
	}
	cliBefore, _ = ProcCPU(os.Getpid())
	winStart := time.Now()
	var winEnd time.Time
	if cfg.Count > 0 {
		wg.Wait()
		winEnd = time.Now()
	} else {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-time.After(time.Until(r.end)):
		case <-done: // every client failed
		}
		winEnd = time.Now()
	}
	if len(cfg.ServerPIDs) > 0 && sampleErr == nil {
		after, sampleErr = SampleProcs(cfg.ServerPIDs)
	}
	cliAfter, _ = ProcCPU(os.Getpid())
	wg.Wait()

	res := &Result{
		Label: cfg.Label, Op: cfg.Op, Clients: cfg.Clients, Inflight: cfg.Inflight, Size: cfg.Size,
		Znodes: cfg.Znodes, Start: winStart.UTC().Format(time.RFC3339Nano), ErrorCodes: map[string]int64{},
	}
	if cfg.Op == OpMixed {
		res.ReadRatio = cfg.ReadRatio
	}
	if cfg.Op == OpCreate {
		res.Znodes = 0
	}
	for i, h := range cfg.Hosts {
		if i > 0 {
			res.Hosts += ","
		}
		res.Hosts += h
	}
	var hist Histogram
	var connErrs []error
	for _, c := range clients {
		hist.Merge(&c.hist)
		res.Ops += c.ops
		res.Errors += c.errN
		for code, n := range c.errs {
			res.ErrorCodes[strconv.Itoa(int(code))] += n
		}
		if c.err != nil {
			connErrs = append(connErrs, fmt.Errorf("client %d: %w", c.idx, c.err))
			c.s.nc.Close()
		} else if err := c.s.close(c.xid + 1); err != nil {
			connErrs = append(connErrs, fmt.Errorf("closing client %d: %w", c.idx, err))
		}
	}
	if len(res.ErrorCodes) == 0 {
		res.ErrorCodes = nil
	}
	win := winEnd.Sub(winStart)
	res.Window = win.Seconds()
	if win > 0 {
		res.OpsPerSec = float64(res.Ops) / win.Seconds()
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	res.P50, res.P99, res.P999 = us(hist.Quantile(0.50)), us(hist.Quantile(0.99)), us(hist.Quantile(0.999))
	res.Mean, res.Max = hist.Mean()/1e3, us(hist.Max())
	if res.Ops > 0 {
		res.ClientCPUPerOp = float64(cliAfter-cliBefore) / 1e3 / float64(res.Ops)
	}
	if len(cfg.ServerPIDs) > 0 {
		res.ServerPIDs = cfg.ServerPIDs
		if sampleErr != nil {
			connErrs = append(connErrs, fmt.Errorf("reading server processes: %w", sampleErr))
		} else {
			cpu := after.CPU - before.CPU
			res.ServerCPU = cpu.Seconds()
			if res.Ops > 0 {
				res.ServerCPUPerOp = float64(cpu) / 1e3 / float64(res.Ops)
			}
			res.ServerRSS = after.RSS
			if len(cfg.ServerPIDs) > 1 {
				for _, pid := range cfg.ServerPIDs {
					res.ServerCPUByPID = append(res.ServerCPUByPID, (after.PerPIDCPU[pid] - before.PerPIDCPU[pid]).Seconds())
				}
			}
		}
	}
	if cfg.Op == OpCreate && cfg.Cleanup {
		if err := r.cleanup(clients); err != nil {
			connErrs = append(connErrs, fmt.Errorf("cleanup: %w", err))
		}
	}
	if err := errors.Join(connErrs...); err != nil {
		res.Err = err.Error()
		return res, err
	}
	return res, nil
}

// setup creates Root, Root/c and Root/n, and the Znodes znodes Root/n/<i>
// that set, get and mixed use (those that exist are kept).
func (r *runner) setup() error {
	s, err := dial(r.cfg.Hosts[0], r.cfg.SessionTimeout)
	if err != nil {
		return err
	}
	defer func() { _ = s.close(1 << 30) }()
	_ = s.nc.SetDeadline(time.Now().Add(5 * time.Minute))
	dirs := []string{r.cfg.Root, r.cfg.Root + "/c", r.cfg.Root + "/n"}
	i := 0
	codes, err := s.batch(1, func(b *reqBuf, xid int32) []byte {
		if i == len(dirs) {
			return nil
		}
		i++
		return b.create(xid, dirs[i-1], nil)
	})
	if err != nil {
		return err
	}
	if err := onlyCodes(codes, proto.ErrOK, proto.ErrNodeExists); err != nil {
		return err
	}
	r.paths = make([]string, r.cfg.Znodes)
	for i := range r.paths {
		r.paths[i] = r.cfg.Root + "/n/" + strconv.Itoa(i)
	}
	if r.cfg.Op == OpCreate {
		return nil
	}
	i = 0
	codes, err = s.batch(256, func(b *reqBuf, xid int32) []byte {
		if i == len(r.paths) {
			return nil
		}
		i++
		return b.create(xid, r.paths[i-1], r.data)
	})
	if err != nil {
		return err
	}
	return onlyCodes(codes, proto.ErrOK, proto.ErrNodeExists)
}

func onlyCodes(codes map[proto.Err]int, ok ...proto.Err) error {
next:
	for code, n := range codes {
		for _, o := range ok {
			if code == o {
				continue next
			}
		}
		return fmt.Errorf("%d replies with error %d (%v)", n, int32(code), code)
	}
	return nil
}

// cleanup deletes the znodes the clients created, over a few sessions.
func (r *runner) cleanup(clients []*client) error {
	const sessions = 4
	var wg sync.WaitGroup
	errs := make([]error, sessions)
	for w := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := dial(r.cfg.Hosts[w%len(r.cfg.Hosts)], r.cfg.SessionTimeout)
			if err != nil {
				errs[w] = err
				return
			}
			defer func() { _ = s.close(1 << 30) }()
			_ = s.nc.SetDeadline(time.Now().Add(10 * time.Minute))
			ci, seq := w, int64(0)
			var path []byte
			codes, err := s.batch(256, func(b *reqBuf, xid int32) []byte {
				for ci < len(clients) && seq >= clients[ci].creats {
					ci, seq = ci+sessions, 0
				}
				if ci >= len(clients) {
					return nil
				}
				path = append(path[:0], r.prefix...)
				path = strconv.AppendInt(path, int64(ci), 10)
				path = append(path, '-')
				path = strconv.AppendInt(path, seq, 10)
				seq++
				return b.delete(xid, string(path))
			})
			if err == nil {
				err = onlyCodes(codes, proto.ErrOK, proto.ErrNoNode)
			}
			errs[w] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *client) loop() {
	var b reqBuf
	for {
		// Fill the window.
		now := time.Now()
		for c.n < len(c.ring) && now.Before(c.r.end) {
			if c.r.cfg.Count > 0 && c.r.issued.Add(1) > c.r.cfg.Count {
				break
			}
			if _, err := c.s.bw.Write(c.next(&b, now)); err != nil {
				c.lost(err)
				return
			}
		}
		if c.s.bw.Buffered() > 0 {
			if err := c.s.bw.Flush(); err != nil {
				c.lost(err)
				return
			}
		}
		if c.n == 0 {
			return // past the end (or the count) and drained
		}
		// Read one reply, waiting for it, then any others already buffered.
		for {
			if err := c.reply(); err != nil {
				c.lost(err)
				return
			}
			if c.n == 0 || !c.s.frameBuffered() {
				break
			}
		}
	}
}

// next builds the next request and records it as pending.
func (c *client) next(b *reqBuf, now time.Time) []byte {
	cfg := &c.r.cfg
	c.xid++
	var frame []byte
	switch cfg.Op {
	case OpCreate:
		frame = b.createSeq(c.xid, c.r.prefix, c.idx, c.creats, c.r.data)
		c.creats++
	case OpSet:
		frame = b.setData(c.xid, c.r.paths[c.rng.IntN(len(c.r.paths))], c.r.data)
	case OpGet:
		frame = b.getData(c.xid, c.r.paths[c.rng.IntN(len(c.r.paths))])
	case OpMixed:
		if c.rng.Float64() < cfg.ReadRatio {
			frame = b.getData(c.xid, c.r.paths[c.rng.IntN(len(c.r.paths))])
		} else {
			frame = b.setData(c.xid, c.r.paths[c.rng.IntN(len(c.r.paths))], c.r.data)
		}
	}
	c.ring[(c.head+c.n)%len(c.ring)] = pending{xid: c.xid, sent: now}
	c.n++
	return frame
}

// reply reads the reply to the oldest pending request and accounts for it.
func (c *client) reply() error {
	xid, code, err := c.s.readReply()
	if err != nil {
		return err
	}
	now := time.Now()
	p := c.ring[c.head]
	if xid != p.xid {
		return fmt.Errorf("reply xid %d, expected %d: replies out of order", xid, p.xid)
	}
	c.head = (c.head + 1) % len(c.ring)
	c.n--
	if code != proto.ErrOK {
		c.errN++
		c.errs[code]++
	} else if !now.Before(c.r.start) && now.Before(c.r.end) {
		c.ops++
		c.hist.RecordDuration(now.Sub(p.sent))
	}
	return nil
}

// lost records a connection failure; the requests still pending count as
// errors.
func (c *client) lost(err error) {
	c.err = err
	c.errN += int64(c.n)
	c.n = 0
	c.s.nc.Close()
}
