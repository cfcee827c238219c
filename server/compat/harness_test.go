package compat

import (
	"crypto/sha1"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"zkit/server/auth"
	"zkit/server/internal/oracle"
	"zkit/server/internal/zkclient"
	"zkit/server/jute"
	"zkit/server/member"
	"zkit/server/proto"
)

// Both servers run with the same settings.
const (
	tickMS = 200 // tickTime: sessions negotiate into [400ms, 4s]

	// superUser is the addauth digest credential of the super user; both
	// servers get its digest as DigestAuthenticationProvider.superDigest.
	superUser = "super:s3cret"

	// callTimeout bounds the wait for one reply.
	callTimeout = 3 * time.Second
)

var superDigest = auth.Digest(superUser)

// envSpec describes a pair of servers, one zkit and one Apache, configured
// alike.
type envSpec struct {
	name string
	ext  bool          // extendedTypesEnabled (TTL nodes)
	reap time.Duration // container / TTL check interval
	// shared: several scenarios run on the pair one after another. Each
	// server then has an admin session, and zxids are compared relative to
	// the last zxid before the scenario (its baseline). A pair that is not
	// shared serves exactly one scenario and zxids are compared raw.
	shared bool
}

// env is a lazily started pair of servers.
type env struct {
	spec envSpec

	once   sync.Once
	err    error
	used   bool
	apache *oracle.Server
	zkit   *member.Server
	tgts   [2]*target
}

var (
	// envShared runs most scenarios: extended types on, a super digest,
	// no container reaping during the run.
	envShared = &env{spec: envSpec{name: "shared", ext: true, reap: time.Hour, shared: true}}
	// envFresh serves one scenario on servers nobody has touched: raw
	// zxids, root and /zookeeper stats from the start.
	envFresh = &env{spec: envSpec{name: "fresh", ext: true, reap: time.Hour}}
	// envNoExt has extendedTypesEnabled=false on both.
	envNoExt = &env{spec: envSpec{name: "noext", ext: false, reap: time.Hour, shared: true}}
	// envReap reaps containers and expired TTL nodes every 100ms.
	envReap = &env{spec: envSpec{name: "reap", ext: true, reap: 100 * time.Millisecond, shared: true}}

	allEnvs = []*env{envShared, envFresh, envNoExt, envReap}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, e := range allEnvs {
		e.stop()
	}
	os.Exit(code)
}

// target is one server of a pair.
type target struct {
	name  string // "apache" or "zkit"
	addr  string
	admin *zkclient.Client // shared pairs only
	env   *env
}

func (e *env) start(t testing.TB) {
	t.Helper()
	if !e.spec.shared && e.used {
		// A pair that is not shared serves one scenario: a second one
		// (go test -count=2) gets new servers.
		e.stop()
		*e = env{spec: e.spec}
	}
	e.once.Do(func() { e.err = e.launch() })
	if e.err != nil {
		t.Fatalf("starting the %s servers: %v", e.spec.name, e.err)
	}
	e.used = true
}

func (e *env) launch() error {
	ext := "false"
	if e.spec.ext {
		ext = "true"
	}
	type res struct {
		s   *oracle.Server
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := oracle.Launch(oracle.Options{
			TickTime: tickMS,
			Config: map[string]string{
				"extendedTypesEnabled":                     ext,
				"DigestAuthenticationProvider.superDigest": superDigest,
				"forceSync": "no",
			},
			JVMArgs: []string{
				fmt.Sprintf("-Dznode.container.checkIntervalMs=%d", e.spec.reap.Milliseconds()),
				"-Dzookeeper.enforceQuota=true",
				"-Xshare:auto", "-XX:TieredStopAtLevel=1",
			},
		})
		ch <- res{s, err}
	}()
	z := member.New(member.Options{
		ClientAddr:             "127.0.0.1:0",
		TickTime:               tickMS * time.Millisecond,
		ExtendedTypes:          e.spec.ext,
		SuperDigest:            superDigest,
		EnforceQuota:           true,
		ContainerCheckInterval: e.spec.reap,
		Logger:                 slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := z.Start(); err != nil {
		<-ch
		return err
	}
	e.zkit = z
	r := <-ch
	if r.err != nil {
		return r.err
	}
	e.apache = r.s
	e.tgts = [2]*target{
		{name: "apache", addr: r.s.Addr(), env: e},
		{name: "zkit", addr: z.Addr().String(), env: e},
	}
	if e.spec.shared {
		for _, tg := range e.tgts {
			c, err := zkclient.Connect(tg.addr, zkclient.Options{Timeout: 4 * time.Second})
			if err != nil {
				return fmt.Errorf("%s admin session: %w", tg.name, err)
			}
			tg.admin = c
		}
	}
	return nil
}

func (e *env) stop() {
	for _, tg := range e.tgts {
		if tg != nil && tg.admin != nil {
			tg.admin.Drop()
		}
	}
	if e.apache != nil {
		e.apache.Stop()
	}
	if e.zkit != nil {
		e.zkit.Stop()
	}
}

// baseline is the last zxid of the server before a scenario (0 on a pair
// that is not shared).
func (tg *target) baseline() (int64, error) {
	if tg.admin == nil {
		return 0, nil
	}
	h, err := tg.admin.Call(proto.OpExists, &proto.PathWatchRequest{Path: "/"}, nil)
	if err != nil {
		return 0, err
	}
	return h.Zxid, nil
}

// ---------------------------------------------------------------------------
// Transcripts

// EvRec is a watch notification as recorded.
type EvRec struct {
	Client string
	Type   proto.EventType
	State  int32
	Path   string
	Zxid   int64
}

// evKind says which zxid a 3.9 server puts on the notifications of an
// entry (ZOOKEEPER-4655), for the NotificationZxid allowance.
type evKind int

const (
	evNoTxn   evKind = iota // not caused by a txn here: -1 like Apache (setWatches catch-up)
	evReply                 // caused by this write: the reply's zxid
	evSomeTxn               // caused by some txn in the background (expiry, reaping)
)

// Entry is one step of a transcript.
type Entry struct {
	Title   string // what was done; the same on both servers
	Err     string // reply error, "" when the step has no reply
	Zxid    int64  // reply header zxid
	HasZxid bool
	Lines   []string // the decoded reply, normalized
	Events  []EvRec  // notifications that arrived with this step
	evKind  evKind
	Allow   []*Allowance // deviations this step may show (see allow_test.go)
}

// Allowed attaches named deviations to a step.
func (e *Entry) Allowed(a ...*Allowance) *Entry {
	e.Allow = append(e.Allow, a...)
	return e
}

func (e *Entry) clone() *Entry {
	c := *e
	c.Lines = append([]string(nil), e.Lines...)
	c.Events = append([]EvRec(nil), e.Events...)
	return &c
}

// Transcript is what one server showed for a scenario.
type Transcript struct {
	Server  string
	Base    int64 // zxid baseline
	Entries []*Entry
	Notes   []string // normalization problems (times)
	start   time.Time
	times   map[int64]int64 // txn zxid -> its time, from Stats
}

// zx renders a zxid relative to the baseline: "+n" for a zxid of the
// scenario, "0" and "-1" as such, "base-n" for older ones.
func (tr *Transcript) zx(z int64) string {
	switch {
	case z == 0 || z == -1:
		return fmt.Sprint(z)
	case z > tr.Base:
		return fmt.Sprintf("+%d", z-tr.Base)
	case z == tr.Base:
		return "base"
	default:
		return fmt.Sprintf("base-%d", tr.Base-z)
	}
}

// tm renders a ctime/mtime as the zxid of the txn that set it. A txn has
// one time, so every stat that names zxid z must carry the same time for
// it, and times must not decrease with zxids; violations are noted.
func (tr *Transcript) tm(t, z int64) string {
	if t == 0 {
		return "0"
	}
	lo, hi := tr.start.Add(-time.Minute).UnixMilli(), time.Now().Add(time.Minute).UnixMilli()
	if z > tr.Base && (t < lo || t > hi) {
		tr.Notes = append(tr.Notes, fmt.Sprintf("time %d of zxid %s is outside the run", t, tr.zx(z)))
		return "T(?)"
	}
	if old, ok := tr.times[z]; ok && old != t {
		tr.Notes = append(tr.Notes, fmt.Sprintf("zxid %s has two times, %d and %d", tr.zx(z), old, t))
		return fmt.Sprintf("T(%s)!", tr.zx(z))
	}
	tr.times[z] = t
	return fmt.Sprintf("T(%s)", tr.zx(z))
}

func (tr *Transcript) checkTimes() {
	zs := make([]int64, 0, len(tr.times))
	for z := range tr.times {
		if z > tr.Base {
			zs = append(zs, z)
		}
	}
	sort.Slice(zs, func(i, j int) bool { return zs[i] < zs[j] })
	for i := 1; i < len(zs); i++ {
		if tr.times[zs[i]] < tr.times[zs[i-1]] {
			tr.Notes = append(tr.Notes, fmt.Sprintf("time goes back from zxid %s to %s", tr.zx(zs[i-1]), tr.zx(zs[i])))
		}
	}
}

func (tr *Transcript) renderEvent(ev EvRec) string {
	return fmt.Sprintf("event %s: %s %s %s zxid=%s", ev.Client, eventName(ev.Type), stateName(ev.State), ev.Path, tr.zx(ev.Zxid))
}

func (tr *Transcript) render(e *Entry) string {
	var b strings.Builder
	b.WriteString(e.Title)
	if e.Err != "" {
		b.WriteString(" -> ")
		b.WriteString(e.Err)
		if e.HasZxid {
			b.WriteString(" zxid=" + tr.zx(e.Zxid))
		}
	}
	for _, l := range e.Lines {
		b.WriteString("\n    " + l)
	}
	for _, ev := range e.Events {
		b.WriteString("\n    " + tr.renderEvent(ev))
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// The recorder

// R records one scenario against one server.
type R struct {
	T    *testing.T
	Root string // the scenario's own top node: "/<name>", or "" on a fresh pair

	tgt      *target
	tr       *Transcript
	clients  []*C
	sessions map[int64]string
	nsess    int
	// deferEvents leaves notifications to the next Events (Background).
	deferEvents bool
}

// P returns a path under the scenario's root.
func (r *R) P(rel string) string {
	if rel == "" {
		if r.Root == "" {
			return "/"
		}
		return r.Root
	}
	return r.Root + "/" + strings.TrimPrefix(rel, "/")
}

func (r *R) add(e *Entry) *Entry {
	r.tr.Entries = append(r.tr.Entries, e)
	return e
}

func (r *R) sessionName(id int64) string {
	if id == 0 {
		return "0"
	}
	if n, ok := r.sessions[id]; ok {
		return n
	}
	r.nsess++
	n := fmt.Sprintf("s%d", r.nsess)
	r.sessions[id] = n
	return n
}

// owner renders an ephemeralOwner: a session of the scenario by name, 0,
// or the raw value (containers, TTL markers, unknown sessions).
func (r *R) owner(id int64) string {
	if id == 0 {
		return "0"
	}
	if n, ok := r.sessions[id]; ok {
		return n
	}
	return fmt.Sprintf("%#x", uint64(id))
}

func (r *R) stat(s proto.Stat) string {
	tr := r.tr

	return fmt.Sprintf("stat{cz=%s mz=%s pz=%s ct=%s mt=%s v=%d cv=%d av=%d eo=%s dl=%d nc=%d}",
		tr.zx(s.Czxid), tr.zx(s.Mzxid), tr.zx(s.Pzxid), tr.tm(s.Ctime, s.Czxid), tr.tm(s.Mtime, s.Mzxid),
		s.Version, s.Cversion, s.Aversion, r.owner(s.EphemeralOwner), s.DataLength, s.NumChildren)
}

// drainInto moves the notifications a client has received into e.
func (r *R) drainInto(c *C, e *Entry) {
	for {
		select {
		case ev := <-c.cl.Events:
			e.Events = append(e.Events, EvRec{Client: c.Name, Type: ev.Type, State: ev.State, Path: ev.Path, Zxid: ev.Zxid})
		default:
			return
		}
	}
}

// barrier makes sure every notification the server queued for c before
// now has been received: a read answered after them.
func (c *C) barrier() bool {
	if c.closed() {
		return false
	}
	_, ch := c.cl.Send(proto.OpExists, &proto.PathWatchRequest{Path: "/"})
	_, ok := c.wait(ch, callTimeout)
	return ok
}

// wait waits for a reply; ok is false when the connection closed first
// (or nothing came within d).
func (c *C) wait(ch <-chan zkclient.Reply, d time.Duration) (rep zkclient.Reply, ok bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case rep, ok = <-ch:
		return rep, ok
	case <-c.cl.Done():
		// The reply may have come just before the close.
		select {
		case rep, ok = <-ch:
			return rep, ok
		default:
			return rep, false
		}
	case <-t.C:
		return rep, false
	}
}

// settle collects the notifications of every open client into e: those of
// the acting client arrived before its reply; the others are fenced by a
// read on each.
func (r *R) settle(acting *C, e *Entry) {
	if r.deferEvents {
		return
	}
	for _, c := range r.clients {
		if c != acting {
			c.barrier()
		}
		r.drainInto(c, e)
	}
}

// Events records the notifications every client has received so far,
// e.g. after something happened in the background (expiry, reaping).
func (r *R) Events(what string) *Entry {
	e := &Entry{Title: "events after " + what, evKind: evSomeTxn}
	r.settle(nil, e)
	return r.add(e)
}

// Background runs steps that set the server's own background work going
// (a container reaper, a TTL): their notifications may come while a step
// is still being settled or after, as the reaper's timer falls, so they
// are all left to the next Events.
func (r *R) Background(steps func()) {
	r.deferEvents = true
	defer func() { r.deferEvents = false }()
	steps()
}

// WaitGone polls (unrecorded) until path no longer exists, at most max.
func (r *R) WaitGone(c *C, path string, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		_, ch := c.cl.Send(proto.OpExists, &proto.PathWatchRequest{Path: path})
		select {
		case rep, ok := <-ch:
			if !ok || rep.Header.Err == proto.ErrNoNode {
				return
			}
		case <-time.After(callTimeout):
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// Clients

// C is one client of a scenario.
type C struct {
	Name string
	// Timeout overrides callTimeout for this client's calls.
	Timeout time.Duration
	r       *R
	cl      *zkclient.Client
	dead    bool
	// sessionClosed: a closeSession was sent for the session.
	sessionClosed bool
}

func (c *C) closed() bool {
	if c.dead || c.cl == nil {
		return true
	}
	select {
	case <-c.cl.Done():
		c.dead = true
		return true
	default:
		return false
	}
}

// Connect opens a session.
func (r *R) Connect(name string) *C {
	return r.connect(name, zkclient.Options{Timeout: 4 * time.Second}, "connect")
}

func zkOpts(timeout time.Duration) zkclient.Options { return zkclient.Options{Timeout: timeout} }

// ConnectWith opens a session with explicit options.
func (r *R) ConnectWith(name string, o zkclient.Options, what string) *C {
	return r.connect(name, o, what)
}

func (r *R) connect(name string, o zkclient.Options, what string) *C {
	e := &Entry{Title: fmt.Sprintf("%s %s", name, what)}
	c := &C{Name: name, r: r}
	cl, err := zkclient.Connect(r.tgt.addr, o)
	switch {
	case err == zkclient.ErrExpired:
		e.Err = "EXPIRED"
		e.Lines = append(e.Lines, fmt.Sprintf("session=%s timeout=%d passwd=%s ro=%v",
			r.sessionName(cl.SessionID), cl.Timeout, passwdStr(cl.Passwd), cl.ReadOnly))
		c.dead = true
	case err != nil:
		e.Err = "CONNECT FAILED"
		c.dead = true
	default:
		c.cl = cl
		e.Err = "OK"
		e.Lines = append(e.Lines, fmt.Sprintf("session=%s timeout=%d passwd=%s ro=%v serverid=%d",
			r.sessionName(cl.SessionID), cl.Timeout, passwdStr(cl.Passwd), cl.ReadOnly, uint64(cl.SessionID)>>56))
		r.clients = append(r.clients, c)
	}
	r.add(e)
	if c.cl != nil {
		// A resumed session may get catch-up notifications at once.
		r.settle(c, e)
	}
	return c
}

func passwdStr(p []byte) string {
	zero := true
	for _, b := range p {
		if b != 0 {
			zero = false
		}
	}
	if zero {
		return fmt.Sprintf("%dB-zero", len(p))
	}
	return fmt.Sprintf("%dB", len(p))
}

// Resume connects a new client to the session of old (which should have
// been dropped), with its password, and lastZxidSeen.
func (r *R) Resume(name string, old *C, lastZxid int64) *C {
	return r.connect(name, zkclient.Options{
		Timeout: 4 * time.Second, SessionID: old.cl.SessionID, Passwd: old.cl.Passwd, LastZxidSeen: lastZxid,
	}, fmt.Sprintf("resume session of %s", old.Name))
}

// ResumeBadPassword tries to resume old's session with a wrong password.
func (r *R) ResumeBadPassword(name string, old *C) *C {
	pw := append([]byte(nil), old.cl.Passwd...)
	pw[0] ^= 0xff
	return r.connect(name, zkclient.Options{Timeout: 4 * time.Second, SessionID: old.cl.SessionID, Passwd: pw},
		fmt.Sprintf("resume session of %s with a wrong password", old.Name))
}

// Drop closes the socket without closing the session.
func (c *C) Drop() {
	e := &Entry{Title: c.Name + " drops its connection"}
	if !c.closed() {
		c.cl.Drop()
	}
	c.dead = true
	c.r.add(e)
	c.r.settle(c, e)
}

// Close closes the session.
func (c *C) Close() *Entry {
	e := c.call(proto.OpCloseSession, "closeSession", nil, nil)
	if c.cl != nil {
		c.cl.Drop()
		for _, o := range c.r.clients {
			if o.cl != nil && o.cl.SessionID == c.cl.SessionID {
				o.sessionClosed = true
			}
		}
	}
	c.dead = true
	return e
}

// cleanup ends every session of the scenario that may still exist.
func (r *R) cleanup() {
	done := map[int64]bool{}
	for _, c := range r.clients {
		if c.cl == nil || done[c.cl.SessionID] {
			continue
		}
		done[c.cl.SessionID] = true
		if c.sessionClosed {
			continue
		}
		if !c.closed() {
			_, _ = c.cl.Call(proto.OpCloseSession, nil, nil)
			c.cl.Drop()
			continue
		}
		x, err := zkclient.Connect(r.tgt.addr, zkclient.Options{Timeout: 4 * time.Second, SessionID: c.cl.SessionID, Passwd: c.cl.Passwd})
		if err == nil {
			_ = x.Close()
		}
	}
}

// rawRecord sends bytes as they are.
type rawRecord []byte

func (b rawRecord) Encode(e *jute.Encoder) { e.Raw(b) }
func (b rawRecord) Decode(d *jute.Decoder) {}

// decoder turns a reply body into lines.
type decoder func(r *R, d *jute.Decoder) []string

// call sends one request, waits for its reply and records it.
func (c *C) call(op proto.Op, title string, req proto.Record, dec decoder) *Entry {
	r := c.r
	e := &Entry{Title: c.Name + " " + title}
	if op.IsWrite() || op == proto.OpCloseSession {
		e.evKind = evReply
	}
	r.add(e)
	if c.closed() {
		// Whether the client noticed the close before or after sending is
		// a race of its own reader, not a server difference.
		e.Err = "CONNECTION CLOSED"
		return e
	}
	_, ch := c.cl.Send(op, req)
	t := time.NewTimer(c.timeout())
	defer t.Stop()
	var done <-chan struct{} = c.cl.Done()
	select {
	case <-done:
		rep, ok := <-closedOr(ch)
		if !ok {
			e.Err = "CONNECTION CLOSED"
			c.dead = true
			break
		}
		c.record(e, rep, dec)
	case rep, ok := <-ch:
		if !ok {
			e.Err = "CONNECTION CLOSED"
			c.dead = true
			break
		}
		c.record(e, rep, dec)
	case <-t.C:
		// The connection may still be open: later steps go on using it.
		e.Err = "NO REPLY"
	}
	r.settle(c, e)
	return e
}

// closedOr returns ch if a reply is waiting in it, else a closed channel.
func closedOr(ch <-chan zkclient.Reply) <-chan zkclient.Reply {
	select {
	case rep, ok := <-ch:
		out := make(chan zkclient.Reply, 1)
		if ok {
			out <- rep
		}
		close(out)
		return out
	default:
		out := make(chan zkclient.Reply)
		close(out)
		return out
	}
}

// record decodes a reply into e.
func (c *C) record(e *Entry, rep zkclient.Reply, dec decoder) {
	e.Err = errName(rep.Header.Err)
	e.Zxid, e.HasZxid = rep.Header.Zxid, true
	if rep.Header.Err == proto.ErrOK && dec != nil {
		d := jute.NewDecoder(rep.Body)
		e.Lines = append(e.Lines, dec(c.r, d)...)
		if d.Err() != nil {
			e.Lines = append(e.Lines, "DECODE ERROR: "+d.Err().Error())
		} else if d.Remaining() > 0 {
			e.Lines = append(e.Lines, fmt.Sprintf("%d trailing bytes", d.Remaining()))
		}
	} else if len(rep.Body) > 0 {
		e.Lines = append(e.Lines, fmt.Sprintf("body: %d bytes", len(rep.Body)))
	}
}

func (c *C) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return callTimeout
}

// CheckOpen records whether the server kept the connection open (after an
// error that may close it).
func (c *C) CheckOpen() *Entry {
	e := &Entry{Title: c.Name + " is the connection still open?"}
	if c.barrier() {
		e.Err = "OPEN"
	} else {
		e.Err = "CLOSED"
		c.dead = true
	}
	return c.r.add(e)
}

// ---------------------------------------------------------------------------
// Operations

func (c *C) Create(path, data string, acl []proto.ACL, flags int32) *Entry {
	return c.CreateOp(proto.OpCreate, path, []byte(data), acl, flags, 0)
}

func (c *C) Create2(path, data string, acl []proto.ACL, flags int32) *Entry {
	return c.CreateOp(proto.OpCreate2, path, []byte(data), acl, flags, 0)
}

func (c *C) CreateContainer(path, data string, acl []proto.ACL) *Entry {
	return c.CreateOp(proto.OpCreateContainer, path, []byte(data), acl, proto.ModeContainer, 0)
}

func (c *C) CreateTTL(path, data string, acl []proto.ACL, flags int32, ttl int64) *Entry {
	return c.CreateOp(proto.OpCreateTTL, path, []byte(data), acl, flags, ttl)
}

// CreateOp is any create opcode with any flags and data (nil data is sent
// as a null buffer).
func (c *C) CreateOp(op proto.Op, path string, data []byte, acl []proto.ACL, flags int32, ttl int64) *Entry {
	title := fmt.Sprintf("%s %s data=%s acl=%s flags=%s", op, qpath(path), dataStr(data), aclStr(acl), modeName(flags))
	if op == proto.OpCreateTTL {
		title += fmt.Sprintf(" ttl=%d", ttl)
	}
	req := &proto.CreateRequest{Path: path, Data: data, ACL: acl, Flags: flags, TTL: ttl, HasTTL: op == proto.OpCreateTTL}
	if op == proto.OpCreate {
		return c.call(op, title, req, decPath)
	}
	return c.call(op, title, req, decPathStat)
}

func (c *C) Delete(path string, version int32) *Entry {
	return c.call(proto.OpDelete, fmt.Sprintf("delete %s v=%d", qpath(path), version),
		&proto.PathVersionRecord{Path: path, Version: version}, nil)
}

// DeleteContainer sends opcode 20 as ZooKeeper's own ContainerManager
// builds it: the body is the bare path.
func (c *C) DeleteContainer(path string) *Entry {
	return c.call(proto.OpDeleteContainer, fmt.Sprintf("deleteContainer %s", qpath(path)), rawRecord(path), nil)
}

func (c *C) Exists(path string, watch bool) *Entry {
	return c.call(proto.OpExists, fmt.Sprintf("exists %s watch=%v", qpath(path), watch),
		&proto.PathWatchRequest{Path: path, Watch: watch}, decStat)
}

func (c *C) GetData(path string, watch bool) *Entry {
	return c.call(proto.OpGetData, fmt.Sprintf("getData %s watch=%v", qpath(path), watch),
		&proto.PathWatchRequest{Path: path, Watch: watch}, decDataStat)
}

func (c *C) SetData(path, data string, version int32) *Entry {
	return c.call(proto.OpSetData, fmt.Sprintf("setData %s data=%s v=%d", qpath(path), dataStr([]byte(data)), version),
		&proto.SetDataRequest{Path: path, Data: []byte(data), Version: version}, decStat)
}

func (c *C) GetChildren(path string, watch bool) *Entry {
	return c.call(proto.OpGetChildren, fmt.Sprintf("getChildren %s watch=%v", qpath(path), watch),
		&proto.PathWatchRequest{Path: path, Watch: watch}, decChildren)
}

func (c *C) GetChildren2(path string, watch bool) *Entry {
	return c.call(proto.OpGetChildren2, fmt.Sprintf("getChildren2 %s watch=%v", qpath(path), watch),
		&proto.PathWatchRequest{Path: path, Watch: watch}, decChildrenStat)
}

func (c *C) GetAllChildrenNumber(path string) *Entry {
	return c.call(proto.OpGetAllChildrenNumber, fmt.Sprintf("getAllChildrenNumber %s", qpath(path)),
		&proto.PathRecord{Path: path}, decInt("number"))
}

func (c *C) GetEphemerals(prefix string) *Entry {
	return c.call(proto.OpGetEphemerals, fmt.Sprintf("getEphemerals %s", qpath(prefix)),
		&proto.PathRecord{Path: prefix}, decStringSet("ephemerals"))
}

func (c *C) GetACL(path string) *Entry {
	return c.call(proto.OpGetACL, fmt.Sprintf("getACL %s", qpath(path)), &proto.PathRecord{Path: path}, decACLStat)
}

func (c *C) SetACL(path string, acl []proto.ACL, version int32) *Entry {
	return c.call(proto.OpSetACL, fmt.Sprintf("setACL %s acl=%s v=%d", qpath(path), aclStr(acl), version),
		&proto.SetACLRequest{Path: path, ACL: acl, Version: version}, decStat)
}

func (c *C) Sync(path string) *Entry {
	return c.call(proto.OpSync, fmt.Sprintf("sync %s", qpath(path)), &proto.PathRecord{Path: path}, decPath)
}

// Check sends a lone check request (opcode 13, outside a multi).
func (c *C) Check(path string, version int32) *Entry {
	return c.call(proto.OpCheck, fmt.Sprintf("check %s v=%d", qpath(path), version),
		&proto.PathVersionRecord{Path: path, Version: version}, decStat)
}

func (c *C) Multi(ops ...proto.MultiOp) *Entry {
	return c.call(proto.OpMulti, "multi "+multiTitle(ops), &proto.MultiRequest{Ops: ops}, decMulti)
}

func (c *C) MultiRead(ops ...proto.MultiOp) *Entry {
	return c.call(proto.OpMultiRead, "multiRead "+multiTitle(ops), &proto.MultiRequest{Ops: ops}, decMulti)
}

func (c *C) AddWatch(path string, mode int32) *Entry {
	return c.call(proto.OpAddWatch, fmt.Sprintf("addWatch %s mode=%s", qpath(path), addWatchModeName(mode)),
		&proto.PathTypeRequest{Path: path, Type: mode}, nil)
}

func (c *C) RemoveWatches(path string, typ int32) *Entry {
	return c.call(proto.OpRemoveWatches, fmt.Sprintf("removeWatches %s type=%s", qpath(path), watcherTypeName(typ)),
		&proto.PathTypeRequest{Path: path, Type: typ}, nil)
}

func (c *C) CheckWatches(path string, typ int32) *Entry {
	return c.call(proto.OpCheckWatches, fmt.Sprintf("checkWatches %s type=%s", qpath(path), watcherTypeName(typ)),
		&proto.PathTypeRequest{Path: path, Type: typ}, nil)
}

func (c *C) WhoAmI() *Entry {
	return c.call(proto.OpWhoAmI, "whoAmI", nil, decWhoAmI)
}

// SetWatches sends setWatches (101), or setWatches2 (105) when sw.V2.
func (c *C) SetWatches(sw proto.SetWatches) *Entry {
	op := proto.OpSetWatches
	if sw.V2 {
		op = proto.OpSetWatches2
	}
	rel := c.r.tr.zx(sw.RelativeZxid)
	if sw.RelativeZxid >= 1<<40 {
		rel = fmt.Sprint(sw.RelativeZxid)
	}
	title := fmt.Sprintf("%s relZxid=%s data=%v exist=%v child=%v", op, rel, sw.DataWatches, sw.ExistWatches, sw.ChildWatches)
	if sw.V2 {
		title += fmt.Sprintf(" persistent=%v recursive=%v", sw.PersistentWatches, sw.PersistentRecursiveWatches)
	}
	// The relative zxid is rendered relative to the baseline above, so the
	// titles agree while the raw values may not.
	e := c.call(op, title, &sw, nil)
	e.evKind = evNoTxn
	return e
}

// Auth sends addauth.
func (c *C) Auth(scheme, cred string) *Entry {
	e := &Entry{Title: fmt.Sprintf("%s addauth %s %q", c.Name, scheme, cred)}
	c.r.add(e)
	if c.closed() {
		// Whether the client noticed the close before or after sending is
		// a race of its own reader, not a server difference.
		e.Err = "CONNECTION CLOSED"
		return e
	}
	code, err := c.cl.Auth(scheme, []byte(cred))
	if err != nil {
		e.Err = "CONNECTION CLOSED"
		c.dead = true
	} else {
		e.Err = errName(code)
	}
	c.r.settle(c, e)
	return e
}

// Raw sends a request with any opcode and body bytes.
func (c *C) Raw(op proto.Op, body []byte, what string) *Entry {
	return c.call(op, fmt.Sprintf("raw op=%d (%s) %s", int32(op), op, what), rawRecord(body), nil)
}

// ---------------------------------------------------------------------------
// Multi ops

func mCreate(path, data string, acl []proto.ACL, flags int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: path, Data: []byte(data), ACL: acl, Flags: flags}}
}

func mCreate2(path, data string, acl []proto.ACL, flags int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCreate2, Body: &proto.CreateRequest{Path: path, Data: []byte(data), ACL: acl, Flags: flags}}
}

func mCreateTTL(path, data string, acl []proto.ACL, flags int32, ttl int64) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCreateTTL, Body: &proto.CreateRequest{Path: path, Data: []byte(data), ACL: acl, Flags: flags, TTL: ttl, HasTTL: true}}
}

func mCreateContainer(path, data string, acl []proto.ACL) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCreateContainer, Body: &proto.CreateRequest{Path: path, Data: []byte(data), ACL: acl, Flags: proto.ModeContainer}}
}

func mDelete(path string, v int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpDelete, Body: &proto.PathVersionRecord{Path: path, Version: v}}
}

func mSetData(path, data string, v int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: path, Data: []byte(data), Version: v}}
}

func mCheck(path string, v int32) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpCheck, Body: &proto.PathVersionRecord{Path: path, Version: v}}
}

func mGetData(path string) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpGetData, Body: &proto.PathWatchRequest{Path: path}}
}

func mGetChildren(path string) proto.MultiOp {
	return proto.MultiOp{Type: proto.OpGetChildren, Body: &proto.PathWatchRequest{Path: path}}
}

func multiTitle(ops []proto.MultiOp) string {
	var parts []string
	for _, o := range ops {
		switch b := o.Body.(type) {
		case *proto.CreateRequest:
			s := fmt.Sprintf("%s(%s %s %s %s", o.Type, qpath(b.Path), dataStr(b.Data), aclStr(b.ACL), modeName(b.Flags))
			if b.HasTTL {
				s += fmt.Sprintf(" ttl=%d", b.TTL)
			}
			parts = append(parts, s+")")
		case *proto.PathVersionRecord:
			parts = append(parts, fmt.Sprintf("%s(%s v=%d)", o.Type, qpath(b.Path), b.Version))
		case *proto.SetDataRequest:
			parts = append(parts, fmt.Sprintf("%s(%s %s v=%d)", o.Type, qpath(b.Path), dataStr(b.Data), b.Version))
		case *proto.PathWatchRequest:
			parts = append(parts, fmt.Sprintf("%s(%s)", o.Type, qpath(b.Path)))
		default:
			parts = append(parts, o.Type.String())
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ---------------------------------------------------------------------------
// Reply decoders

func decPath(r *R, d *jute.Decoder) []string { return []string{"path=" + qpath(d.String())} }

func decStat(r *R, d *jute.Decoder) []string {
	var s proto.Stat
	s.Decode(d)
	return []string{r.stat(s)}
}

func decPathStat(r *R, d *jute.Decoder) []string {
	p := d.String()
	var s proto.Stat
	s.Decode(d)
	return []string{"path=" + qpath(p), r.stat(s)}
}

func decDataStat(r *R, d *jute.Decoder) []string {
	data := d.BufferCopy()
	var s proto.Stat
	s.Decode(d)
	return []string{"data=" + dataStr(data), r.stat(s)}
}

func decChildren(r *R, d *jute.Decoder) []string {
	return []string{"children=" + setStr(d.Strings())}
}

func decChildrenStat(r *R, d *jute.Decoder) []string {
	kids := d.Strings()
	var s proto.Stat
	s.Decode(d)
	return []string{"children=" + setStr(kids), r.stat(s)}
}

func decACLStat(r *R, d *jute.Decoder) []string {
	acl := proto.DecodeACLs(d)
	var s proto.Stat
	s.Decode(d)
	return []string{"acl=" + aclStr(acl), r.stat(s)}
}

func decInt(name string) decoder {
	return func(r *R, d *jute.Decoder) []string { return []string{fmt.Sprintf("%s=%d", name, d.Int())} }
}

func decStringSet(name string) decoder {
	return func(r *R, d *jute.Decoder) []string { return []string{name + "=" + setStr(d.Strings())} }
}

func decWhoAmI(r *R, d *jute.Decoder) []string {
	var w proto.WhoAmIResponse
	w.Decode(d)
	if w.ClientInfo == nil {
		return []string{"clientInfo=null"}
	}
	var parts []string
	for _, ci := range w.ClientInfo {
		parts = append(parts, ci.AuthScheme+":"+ci.User)
	}
	return []string{"clientInfo=[" + strings.Join(parts, ", ") + "]"}
}

// decMulti decodes a multi / multiRead reply keeping every header field.
func decMulti(r *R, d *jute.Decoder) []string {
	var out []string
	for i := 0; d.Err() == nil; i++ {
		var h proto.MultiHeader
		h.Decode(d)
		if d.Err() != nil {
			break
		}
		if h.Done {
			out = append(out, fmt.Sprintf("done{type=%d err=%d}", int32(h.Type), int32(h.Err)))
			break
		}
		s := fmt.Sprintf("[%d] %s hdrErr=%d", i, h.Type, int32(h.Err))
		switch h.Type {
		case proto.OpCreate:
			s += " path=" + qpath(d.String())
		case proto.OpCreate2, proto.OpCreateTTL, proto.OpCreateContainer:
			p := d.String()
			var st proto.Stat
			st.Decode(d)
			s += " path=" + qpath(p) + " " + r.stat(st)
		case proto.OpSetData:
			var st proto.Stat
			st.Decode(d)
			s += " " + r.stat(st)
		case proto.OpGetChildren:
			s += " children=" + setStr(d.Strings())
		case proto.OpGetData:
			data := d.BufferCopy()
			var st proto.Stat
			st.Decode(d)
			s += " data=" + dataStr(data) + " " + r.stat(st)
		case proto.OpError:
			s += " err=" + errName(proto.Err(d.Int()))
		case proto.OpDelete, proto.OpCheck, proto.OpDeleteContainer:
		default:
			s += " (unknown result type)"
			out = append(out, s)
			return out
		}
		out = append(out, s)
	}
	return out
}

// ---------------------------------------------------------------------------
// Rendering helpers

func errName(e proto.Err) string {
	names := map[proto.Err]string{
		proto.ErrOK: "OK", proto.ErrSystemError: "SystemError", proto.ErrRuntimeInconsistency: "RuntimeInconsistency",
		proto.ErrDataInconsistency: "DataInconsistency", proto.ErrConnectionLoss: "ConnectionLoss",
		proto.ErrMarshallingError: "MarshallingError", proto.ErrUnimplemented: "Unimplemented",
		proto.ErrOperationTimeout: "OperationTimeout", proto.ErrBadArguments: "BadArguments",
		proto.ErrUnknownSession: "UnknownSession", proto.ErrNewConfigNoQuorum: "NewConfigNoQuorum",
		proto.ErrReconfigInProgress: "ReconfigInProgress", proto.ErrAPIError: "APIError",
		proto.ErrNoNode: "NoNode", proto.ErrNoAuth: "NoAuth", proto.ErrBadVersion: "BadVersion",
		proto.ErrNoChildrenForEphemerals: "NoChildrenForEphemerals", proto.ErrNodeExists: "NodeExists",
		proto.ErrNotEmpty: "NotEmpty", proto.ErrSessionExpired: "SessionExpired",
		proto.ErrInvalidCallback: "InvalidCallback", proto.ErrInvalidACL: "InvalidACL",
		proto.ErrAuthFailed: "AuthFailed", proto.ErrSessionMoved: "SessionMoved",
		proto.ErrNotReadOnly: "NotReadOnly", proto.ErrEphemeralOnLocalSession: "EphemeralOnLocalSession",
		proto.ErrNoWatcher: "NoWatcher", proto.ErrRequestTimeout: "RequestTimeout",
		proto.ErrReconfigDisabled: "ReconfigDisabled", proto.ErrSessionClosedRequireSASL: "SessionClosedRequireSASL",
		proto.ErrQuotaExceeded: "QuotaExceeded", proto.ErrThrottled: "Throttled",
	}
	if n, ok := names[e]; ok {
		return n
	}
	return fmt.Sprintf("Err(%d)", int32(e))
}

func eventName(t proto.EventType) string {
	switch t {
	case proto.EventNone:
		return "None"
	case proto.EventNodeCreated:
		return "NodeCreated"
	case proto.EventNodeDeleted:
		return "NodeDeleted"
	case proto.EventNodeDataChanged:
		return "NodeDataChanged"
	case proto.EventNodeChildrenChanged:
		return "NodeChildrenChanged"
	case proto.EventDataWatchRemoved:
		return "DataWatchRemoved"
	case proto.EventChildWatchRemoved:
		return "ChildWatchRemoved"
	case proto.EventPersistentWatchRemoved:
		return "PersistentWatchRemoved"
	}
	return fmt.Sprintf("Event(%d)", int32(t))
}

func stateName(s int32) string {
	switch s {
	case proto.StateSyncConnected:
		return "SyncConnected"
	case proto.StateDisconnected:
		return "Disconnected"
	case proto.StateExpired:
		return "Expired"
	case proto.StateAuthFailed:
		return "AuthFailed"
	case proto.StateClosed:
		return "Closed"
	}
	return fmt.Sprintf("State(%d)", s)
}

func modeName(f int32) string {
	switch f {
	case proto.ModePersistent:
		return "PERSISTENT"
	case proto.ModeEphemeral:
		return "EPHEMERAL"
	case proto.ModePersistentSequential:
		return "PERSISTENT_SEQUENTIAL"
	case proto.ModeEphemeralSequential:
		return "EPHEMERAL_SEQUENTIAL"
	case proto.ModeContainer:
		return "CONTAINER"
	case proto.ModePersistentWithTTL:
		return "PERSISTENT_WITH_TTL"
	case proto.ModePersistentSequentialWithTTL:
		return "PERSISTENT_SEQUENTIAL_WITH_TTL"
	}
	return fmt.Sprintf("flags(%d)", f)
}

func addWatchModeName(m int32) string {
	switch m {
	case proto.AddWatchPersistent:
		return "PERSISTENT"
	case proto.AddWatchPersistentRecursive:
		return "PERSISTENT_RECURSIVE"
	}
	return fmt.Sprintf("mode(%d)", m)
}

func watcherTypeName(t int32) string {
	switch t {
	case proto.WatcherChildren:
		return "Children"
	case proto.WatcherData:
		return "Data"
	case proto.WatcherAny:
		return "Any"
	case proto.WatcherPersistent:
		return "Persistent"
	case proto.WatcherPersistentRecursive:
		return "PersistentRecursive"
	}
	return fmt.Sprintf("type(%d)", t)
}

func permStr(p int32) string {
	var b strings.Builder
	for _, x := range []struct {
		bit int32
		c   byte
	}{{proto.PermRead, 'r'}, {proto.PermWrite, 'w'}, {proto.PermCreate, 'c'}, {proto.PermDelete, 'd'}, {proto.PermAdmin, 'a'}} {
		if p&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	if rest := p &^ proto.PermAll; rest != 0 {
		fmt.Fprintf(&b, "+%#x", rest)
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

func aclStr(acl []proto.ACL) string {
	if acl == nil {
		return "null"
	}
	parts := make([]string, len(acl))
	for i, a := range acl {
		parts[i] = fmt.Sprintf("%s:%s=%s", a.ID.Scheme, a.ID.ID, permStr(a.Perms))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func dataStr(b []byte) string {
	if b == nil {
		return "null"
	}
	if len(b) > 64 {
		return fmt.Sprintf("%d bytes sha1=%x", len(b), sha1.Sum(b))
	}
	return fmt.Sprintf("%q", b)
}

func setStr(v []string) string {
	if v == nil {
		return "null"
	}
	s := append([]string(nil), v...)
	sort.Strings(s)
	return "[" + strings.Join(s, " ") + "]"
}

// qpath quotes a path only when it has characters that would hide in a
// transcript.
func qpath(p string) string {
	for _, r := range p {
		if r < 0x21 || r > 0x7e {
			return fmt.Sprintf("%+q", p)
		}
	}
	if p == "" {
		return `""`
	}
	return p
}

// ---------------------------------------------------------------------------
// Running and comparing

// scenario is a sequence of steps; it runs once against each server and
// must do the same steps on both.
type scenario func(r *R)

// record runs a scenario against one server.
func record(t *testing.T, tg *target, name string, fn scenario) *Transcript {
	base, err := tg.baseline()
	if err != nil {
		t.Fatalf("%s baseline: %v", tg.name, err)
	}
	tr := &Transcript{Server: tg.name, Base: base, start: time.Now(), times: map[int64]int64{}}
	r := &R{T: t, tgt: tg, tr: tr, sessions: map[int64]string{}}
	if tg.env.spec.shared {
		r.Root = "/" + strings.ReplaceAll(name, "/", "_")
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.add(&Entry{Title: fmt.Sprintf("# scenario panicked: %v", p)})
			}
		}()
		fn(r)
	}()
	// Close what the scenario left behind, unrecorded: open sessions, and
	// sessions whose connection was dropped or closed by the server (they
	// would otherwise expire in the middle of a later scenario and shift
	// its zxids). Scenarios that want to see a close do it themselves.
	r.cleanup()
	tr.checkTimes()
	return tr
}

// Run runs fn against both servers of e and fails t with a diff when a
// client could tell them apart (beyond the named allowances).
func Run(t *testing.T, e *env, name string, fn scenario) {
	t.Helper()
	e.start(t)
	a := record(t, e.tgts[0], name, fn)
	z := record(t, e.tgts[1], name, fn)
	compare(t, a, z)
}

// compare diffs two transcripts step by step and fails t with the diff.
func compare(t *testing.T, a, z *Transcript) bool {
	t.Helper()
	d := diffTranscripts(a, z)
	if len(d.used) > 0 {
		t.Logf("deliberate deviations seen: %s", d.usedString())
	}
	if d.bad > 0 {
		t.Errorf("zkit differs from Apache ZooKeeper in %d place(s) (-A apache, +Z zkit):\n%s", d.bad, d.text)
		return false
	}
	return true
}

// transcriptDiff is the outcome of comparing two transcripts.
type transcriptDiff struct {
	bad  int            // differing steps and notes
	text string         // readable diff
	used map[string]int // allowances used, by name
}

func (d transcriptDiff) usedString() string {
	var parts []string
	for nm, k := range d.used {
		parts = append(parts, fmt.Sprintf("%s x%d", nm, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func diffTranscripts(a, z *Transcript) transcriptDiff {
	var diff strings.Builder
	d := transcriptDiff{used: map[string]int{}}
	n := max(len(a.Entries), len(z.Entries))
	shown := -1
	for i := 0; i < n; i++ {
		var ea, ez *Entry
		if i < len(a.Entries) {
			ea = a.Entries[i]
		}
		if i < len(z.Entries) {
			ez = z.Entries[i]
		}
		if ea != nil && ez != nil {
			if a.render(ea) == z.render(ez) {
				continue
			}
			if names, ok := applyAllowances(ea, ez, a, z); ok {
				for _, nm := range names {
					d.used[nm]++
				}
				continue
			}
		}
		d.bad++
		// Two steps of context before the first difference of a run.
		for j := max(shown+1, i-2); j < i && j < len(a.Entries); j++ {
			fmt.Fprintf(&diff, "   #%d %s\n", j, indent(a.render(a.Entries[j])))
		}
		if ea != nil {
			fmt.Fprintf(&diff, "-A #%d %s\n", i, indent(a.render(ea)))
		} else {
			fmt.Fprintf(&diff, "-A #%d (no such step)\n", i)
		}
		if ez != nil {
			fmt.Fprintf(&diff, "+Z #%d %s\n", i, indent(z.render(ez)))
		} else {
			fmt.Fprintf(&diff, "+Z #%d (no such step)\n", i)
		}
		if ea != nil && len(ea.Allow) > 0 {
			var nm []string
			for _, al := range ea.Allow {
				nm = append(nm, al.Name)
			}
			fmt.Fprintf(&diff, "   (allowances tried: %s)\n", strings.Join(nm, ", "))
		}
		shown = i
	}
	for _, tr := range []*Transcript{a, z} {
		for _, nt := range tr.Notes {
			d.bad++
			fmt.Fprintf(&diff, "note (%s): %s\n", tr.Server, nt)
		}
	}
	d.text = diff.String()
	return d
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n      ") }

// Dump renders a whole transcript (for debugging: t.Log(dump(tr))).
func dump(tr *Transcript) string {
	var b strings.Builder
	for i, e := range tr.Entries {
		fmt.Fprintf(&b, "#%d %s\n", i, indent(tr.render(e)))
	}
	return b.String()
}
