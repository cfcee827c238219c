package ensembletest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// The register model: a small set of znodes (keys), each holding a value
// and its data version. Operations:
//
//   - write: setData(key, value, -1); returns the new version.
//   - cas: setData(key, value, expected); returns the new version, or
//     BadVersion when the version was not the expected one.
//   - read: sync(key) then getData(key) on the same session, the same
//     member; returns the value and the version. This is the read zkit
//     promises linearizable on every member, the leader included.
//
// An operation whose outcome is unknown (the connection was lost, the
// session expired, ...) may have happened or not: it is recorded with no
// return (Return after the end of the history) and an Unknown output, and
// the model lets it take effect at any point after its call, which covers
// "never" (the end). A read with an unknown outcome says nothing and is
// dropped. Plain getData (no sync) is only sequentially consistent and is
// not in this history; it is checked by CheckSessionOrder.

// OpKind is a register operation.
type OpKind int

// Operations.
const (
	OpWrite OpKind = iota
	OpCAS
	OpRead
)

func (k OpKind) String() string {
	switch k {
	case OpWrite:
		return "write"
	case OpCAS:
		return "cas"
	}
	return "read"
}

// Input is an operation's call.
type Input struct {
	Kind   OpKind
	Key    int
	Value  string // written value
	Expect int32  // cas: the version expected
}

// Output is an operation's outcome.
type Output struct {
	Unknown    bool
	BadVersion bool   // cas failed its check
	Value      string // read
	Version    int32  // the version written (write, cas) or read
}

type register struct {
	Value   string
	Version int32
}

// Meta is what the visualization shows of an operation.
type Meta struct {
	Session string
	Server  string
	Zxid    int64 // reply header zxid (0 if unknown)
	Mzxid   int64 // the znode's mzxid in the reply
	Err     string
}

func (m Meta) String() string {
	s := fmt.Sprintf("%s via %s", m.Session, m.Server)
	if m.Zxid != 0 {
		s += fmt.Sprintf(" zxid=0x%x", m.Zxid)
	}
	if m.Mzxid != 0 {
		s += fmt.Sprintf(" mzxid=0x%x", m.Mzxid)
	}
	if m.Err != "" {
		s += " err=" + m.Err
	}
	return s
}

// RegisterModel is the porcupine model of the keys, partitioned by key.
func RegisterModel(initial string) porcupine.Model {
	return porcupine.Model{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			by := map[int][]porcupine.Operation{}
			for _, op := range h {
				k := op.Input.(Input).Key
				by[k] = append(by[k], op)
			}
			keys := make([]int, 0, len(by))
			for k := range by {
				keys = append(keys, k)
			}
			sort.Ints(keys)
			out := make([][]porcupine.Operation, 0, len(keys))
			for _, k := range keys {
				out = append(out, by[k])
			}
			return out
		},
		Init: func() any { return register{Value: initial} },
		Step: func(state, input, output any) (bool, any) {
			s, in, out := state.(register), input.(Input), output.(Output)
			switch in.Kind {
			case OpWrite:
				next := register{Value: in.Value, Version: s.Version + 1}
				if out.Unknown {
					return true, next
				}
				return out.Version == next.Version, next
			case OpCAS:
				match := s.Version == in.Expect
				next := register{Value: in.Value, Version: s.Version + 1}
				switch {
				case out.Unknown:
					if match {
						return true, next
					}
					return true, s
				case out.BadVersion:
					return !match, s
				default:
					return match && out.Version == next.Version, next
				}
			default:
				return out.Value == s.Value && out.Version == s.Version, s
			}
		},
		Equal: func(a, b any) bool { return a.(register) == b.(register) },
		Hash: func(state any) uint64 {
			s := state.(register)
			h := fnv.New64a()
			fmt.Fprintf(h, "%s\x00%d", s.Value, s.Version)
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(Input), output.(Output)
			var res string
			switch {
			case out.Unknown:
				res = "?"
			case out.BadVersion:
				res = "BadVersion"
			case in.Kind == OpRead:
				res = fmt.Sprintf("%q v%d", out.Value, out.Version)
			default:
				res = fmt.Sprintf("v%d", out.Version)
			}
			switch in.Kind {
			case OpWrite:
				return fmt.Sprintf("set(k%d, %q) → %s", in.Key, in.Value, res)
			case OpCAS:
				return fmt.Sprintf("cas(k%d, v%d, %q) → %s", in.Key, in.Expect, in.Value, res)
			}
			return fmt.Sprintf("sync+get(k%d) → %s", in.Key, res)
		},
		DescribeState: func(state any) string {
			s := state.(register)
			return fmt.Sprintf("%q v%d", s.Value, s.Version)
		},
		DescribeOperationMetadata: func(info any) string {
			if info == nil {
				return ""
			}
			return info.(Meta).String()
		},
	}
}

// Observation is a plain read (getData without sync), or any reply that
// shows a key's state: the key's version and mzxid, and the reply zxid.
type Observation struct {
	Session   string
	Server    string
	Key       int
	Version   int32
	Mzxid     int64
	ReplyZxid int64 // the member's applied zxid when it answered (0 if unknown)
	SeenZxid  int64 // the highest zxid the session had seen before the call
	At        time.Duration
}

// History collects operations from concurrent clients.
type History struct {
	mu      sync.Mutex
	start   time.Time
	ops     []porcupine.Operation
	pending []int // indexes of operations with unknown outcome
	obs     []Observation
	writes  map[int]map[int64]int32 // key → mzxid → version, from every reply that showed one
	acked   map[int][]ackedWrite    // key → acknowledged writes
}

type ackedWrite struct {
	Version int32
	Mzxid   int64
	Value   string
	Session string
}

// NewHistory starts a history; times are measured from now.
func NewHistory() *History {
	return &History{start: time.Now(), writes: map[int]map[int64]int32{}, acked: map[int][]ackedWrite{}}
}

// Now is the current time on the history's clock.
func (h *History) Now() int64 { return int64(time.Since(h.start)) }

// Add records a completed operation (or one with an unknown outcome).
func (h *History) Add(client int, in Input, call, ret int64, out Output, meta Meta) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if out.Unknown {
		if in.Kind == OpRead {
			return
		}
		h.pending = append(h.pending, len(h.ops))
		ret = math.MaxInt64
	}
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret, Metadata: meta})
	if !out.Unknown && !out.BadVersion && meta.Mzxid != 0 {
		h.noteWrite(in.Key, meta.Mzxid, out.Version)
		if in.Kind != OpRead {
			h.acked[in.Key] = append(h.acked[in.Key], ackedWrite{Version: out.Version, Mzxid: meta.Mzxid, Value: in.Value, Session: meta.Session})
		}
	}
}

// Observe records a plain read.
func (h *History) Observe(o Observation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.obs = append(h.obs, o)
	h.noteWrite(o.Key, o.Mzxid, o.Version)
}

func (h *History) noteWrite(key int, mzxid int64, version int32) {
	if version == 0 {
		return // the creation, not a setData
	}
	m := h.writes[key]
	if m == nil {
		m = map[int64]int32{}
		h.writes[key] = m
	}
	m[mzxid] = version
}

// Operations returns the history, with unknown outcomes' returns set just
// after its end.
func (h *History) Operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	var end int64
	for _, op := range h.ops {
		if op.Return != math.MaxInt64 && op.Return > end {
			end = op.Return
		}
		if op.Call > end {
			end = op.Call
		}
	}
	out := append([]porcupine.Operation(nil), h.ops...)
	for _, i := range h.pending {
		out[i].Return = end + 1
	}
	return out
}

// Resolved is Operations with the outcome of unknown writes settled where
// the history proves it, which spares porcupine from guessing (its search
// grows fast with pending writes). Every applied setData takes the next
// version of its znode, and every written value is unique, so:
//
//   - an unknown write whose value some reply showed with version v
//     happened, as version v (it stays pending: when is still unknown);
//   - an unknown write whose value nothing showed did not happen if every
//     version up to the newest seen is accounted for by other writes.
//
// It returns how many were settled each way.
func (h *History) Resolved() (ops []porcupine.Operation, happened, dropped int) {
	all := h.Operations()
	type key struct {
		k int
		v string
	}
	shown := map[key]int32{}              // (key, value) → version a reply showed
	accounted := map[int]map[int32]bool{} // key → versions whose write is known
	newest := map[int]int32{}
	note := func(k int, v string, version int32) {
		if version == 0 {
			return
		}
		shown[key{k, v}] = version
		if accounted[k] == nil {
			accounted[k] = map[int32]bool{}
		}
		accounted[k][version] = true
		newest[k] = max(newest[k], version)
	}
	for _, op := range all {
		in, out := op.Input.(Input), op.Output.(Output)
		switch {
		case out.Unknown || out.BadVersion:
		case in.Kind == OpRead:
			note(in.Key, out.Value, out.Version)
		default:
			note(in.Key, in.Value, out.Version)
		}
	}
	ops = make([]porcupine.Operation, 0, len(all))
	for _, op := range all {
		in, out := op.Input.(Input), op.Output.(Output)
		if !out.Unknown {
			ops = append(ops, op)
			continue
		}
		if v, ok := shown[key{in.Key, in.Value}]; ok {
			op.Output = Output{Version: v}
			ops = append(ops, op)
			happened++
			continue
		}
		full := true
		for v := int32(1); v <= newest[in.Key]; v++ {
			if !accounted[in.Key][v] {
				full = false
				break
			}
		}
		if full {
			dropped++
			continue
		}
		ops = append(ops, op)
	}
	return ops, happened, dropped
}

// Len is the number of operations in the history (writes,
// compare-and-sets and sync-reads; plain reads are observations).
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ops)
}

// Stats summarizes the history.
func (h *History) Stats() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var kinds [3]int
	var unknown, bad int
	for _, op := range h.ops {
		in, out := op.Input.(Input), op.Output.(Output)
		kinds[in.Kind]++
		if out.Unknown {
			unknown++
		}
		if out.BadVersion {
			bad++
		}
	}
	h.mu.Unlock()
	_, happened, dropped := h.Resolved()
	h.mu.Lock()
	return fmt.Sprintf("%d writes, %d cas (%d BadVersion), %d sync-reads, %d unknown outcomes (%d shown to have happened, %d not to), %d plain reads",
		kinds[OpWrite], kinds[OpCAS], bad, kinds[OpRead], unknown, happened, dropped, len(h.obs))
}

// CheckLinearizable checks the history with porcupine; it also returns
// how many operations porcupine checked. On a violation (or a timeout),
// with $ZKIT_TEST_KEEP set, it writes porcupine's visualization to a file
// that outlives the test and returns its path.
func (h *History) CheckLinearizable(initial string, timeout time.Duration) (res porcupine.CheckResult, checked int, path string, err error) {
	model := RegisterModel(initial)
	ops, _, _ := h.Resolved()
	res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	if res == porcupine.Ok || !keeping() {
		return res, len(ops), "", nil
	}
	path, err = visualize(model, info, ops)
	return res, len(ops), path, err
}

// visualize writes porcupine's visualization of a history, and the
// history itself (to check again with -ensembletest.recheck).
func visualize(model porcupine.Model, info porcupine.LinearizationInfo, ops []porcupine.Operation) (string, error) {
	f, err := os.CreateTemp("", "zkit-linearizability-*.html")
	if err != nil {
		return "", err
	}
	defer f.Close()
	// The operations too, to check again offline (LoadOperations).
	if b, err := json.Marshal(ops); err == nil {
		_ = os.WriteFile(strings.TrimSuffix(f.Name(), ".html")+".json", b, 0o644)
	}
	if err := porcupine.Visualize(model, info, f); err != nil {
		return f.Name(), err
	}
	return f.Name(), nil
}

// LoadOperations reads operations CheckLinearizable saved next to a
// visualization (its .json), to check them again.
func LoadOperations(path string) ([]porcupine.Operation, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw []struct {
		ClientId int
		Input    Input
		Call     int64
		Output   Output
		Return   int64
		Metadata Meta
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	ops := make([]porcupine.Operation, len(raw))
	for i, r := range raw {
		ops[i] = porcupine.Operation{ClientId: r.ClientId, Input: r.Input, Call: r.Call, Output: r.Output, Return: r.Return, Metadata: r.Metadata}
	}
	return ops, nil
}

// CheckSessionOrder checks that no read went back in time for its
// session: a read of key k answered by a member that had applied up to
// zxid Z (the reply's zxid), or by any member after the session had seen
// Z, must show a version of k at least as new as every write to k with a
// zxid at or below Z. Writes are known from every reply that showed one.
// This holds for plain reads on followers too (ZooKeeper's sequential
// consistency: a client never sees an older state than one it saw).
func (h *History) CheckSessionOrder() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var bad []string
	type zv struct {
		zxid    int64
		version int32
	}
	sorted := map[int][]zv{}
	for k, m := range h.writes {
		for z, v := range m {
			sorted[k] = append(sorted[k], zv{z, v})
		}
		sort.Slice(sorted[k], func(i, j int) bool { return sorted[k][i].zxid < sorted[k][j].zxid })
	}
	check := func(o Observation) {
		bound := max(o.ReplyZxid, o.SeenZxid)
		for _, w := range sorted[o.Key] {
			if w.zxid > bound {
				break
			}
			if w.zxid > o.Mzxid && w.version > o.Version {
				bad = append(bad, fmt.Sprintf("at %v %s read k%d via %s: version %d (mzxid 0x%x), but the write of version %d (zxid 0x%x) is at or below what it had seen (reply zxid 0x%x, session seen 0x%x)",
					o.At.Round(time.Millisecond), o.Session, o.Key, o.Server, o.Version, o.Mzxid, w.version, w.zxid, o.ReplyZxid, o.SeenZxid))
				return
			}
		}
	}
	for _, o := range h.obs {
		check(o)
	}
	for _, op := range h.ops {
		in, out, m := op.Input.(Input), op.Output.(Output), op.Metadata.(Meta)
		if in.Kind == OpRead && !out.Unknown {
			check(Observation{Session: m.Session, Server: m.Server, Key: in.Key, Version: out.Version, Mzxid: m.Mzxid,
				ReplyZxid: m.Zxid, At: time.Duration(op.Call)})
		}
	}
	return bad
}

// CheckVersions checks what the acknowledged writes say by themselves: no
// two acknowledged writes of a key got the same version (one of them
// would have been lost), versions grow with zxids, and each version's
// zxid is the one every reply showed for it.
func (h *History) CheckVersions() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var bad []string
	for k, ws := range h.acked {
		byVersion := map[int32]ackedWrite{}
		for _, w := range ws {
			if o, ok := byVersion[w.Version]; ok {
				bad = append(bad, fmt.Sprintf("k%d: two acknowledged writes got version %d: %q (zxid 0x%x, %s) and %q (zxid 0x%x, %s)",
					k, w.Version, o.Value, o.Mzxid, o.Session, w.Value, w.Mzxid, w.Session))
				continue
			}
			byVersion[w.Version] = w
		}
		vs := make([]ackedWrite, 0, len(byVersion))
		for _, w := range byVersion {
			vs = append(vs, w)
		}
		sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
		for i := 1; i < len(vs); i++ {
			if vs[i].Mzxid <= vs[i-1].Mzxid {
				bad = append(bad, fmt.Sprintf("k%d: version %d has zxid 0x%x, not above version %d's 0x%x",
					k, vs[i].Version, vs[i].Mzxid, vs[i-1].Version, vs[i-1].Mzxid))
			}
		}
		for z, v := range h.writes[k] {
			if w, ok := byVersion[v]; ok && w.Mzxid != z {
				bad = append(bad, fmt.Sprintf("k%d: version %d was acknowledged with zxid 0x%x but a reply showed it with zxid 0x%x", k, v, w.Mzxid, z))
			}
		}
	}
	return bad
}

// StaleReads counts the sync-reads (of a member's address, or all if
// server is "") that returned a version older than a write acknowledged
// before the read was called: reads that are certainly stale.
func (h *History) StaleReads(server string) (stale, total int) {
	ops := h.Operations()
	type w struct {
		ret     int64
		version int32
	}
	writes := map[int][]w{}
	for _, op := range ops {
		in, out := op.Input.(Input), op.Output.(Output)
		if in.Kind != OpRead && !out.Unknown && !out.BadVersion {
			writes[in.Key] = append(writes[in.Key], w{op.Return, out.Version})
		}
	}
	for _, op := range ops {
		in, out := op.Input.(Input), op.Output.(Output)
		if in.Kind != OpRead || (server != "" && op.Metadata.(Meta).Server != server) {
			continue
		}
		total++
		for _, x := range writes[in.Key] {
			if x.ret < op.Call && x.version > out.Version {
				stale++
				break
			}
		}
	}
	return stale, total
}

// MaxAcked returns, per key, the newest acknowledged write.
func (h *History) MaxAcked() map[int]ackedWrite {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[int]ackedWrite{}
	for k, ws := range h.acked {
		for _, w := range ws {
			if w.Version > out[k].Version {
				out[k] = w
			}
		}
	}
	return out
}

func joinLines(lines []string, max int) string {
	if len(lines) > max {
		lines = append(lines[:max:max], fmt.Sprintf("... and %d more", len(lines)-max))
	}
	return strings.Join(lines, "\n")
}
