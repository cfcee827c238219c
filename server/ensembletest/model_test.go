package ensembletest

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// The checks must catch what they are for: these histories are made up.

func check(t *testing.T, h *History) porcupine.CheckResult {
	t.Helper()
	return porcupine.CheckOperationsTimeout(RegisterModel(Initial), h.Operations(), 0)
}

func TestModelAcceptsAndRejects(t *testing.T) {
	w := func(h *History, c int, v string, call, ret int64, version int32, mzxid int64) {
		h.Add(c, Input{Kind: OpWrite, Key: 0, Value: v}, call, ret, Output{Version: version}, Meta{Session: "s", Mzxid: mzxid})
	}
	r := func(h *History, c int, call, ret int64, v string, version int32) {
		h.Add(c, Input{Kind: OpRead, Key: 0}, call, ret, Output{Value: v, Version: version}, Meta{Session: "s"})
	}
	cases := []struct {
		name  string
		build func(h *History)
		want  porcupine.CheckResult
	}{
		{"read after write", func(h *History) { w(h, 0, "a", 0, 10, 1, 0x101); r(h, 1, 20, 30, "a", 1) }, porcupine.Ok},
		{"concurrent read may see either", func(h *History) { w(h, 0, "a", 0, 10, 1, 0x101); r(h, 1, 5, 30, Initial, 0) }, porcupine.Ok},
		{"stale read", func(h *History) { w(h, 0, "a", 0, 10, 1, 0x101); r(h, 1, 20, 30, Initial, 0) }, porcupine.Illegal},
		{"wrong version", func(h *History) { w(h, 0, "a", 0, 10, 2, 0x101) }, porcupine.Illegal},
		{"unknown write seen", func(h *History) {
			h.Add(0, Input{Kind: OpWrite, Key: 0, Value: "a"}, 0, 5, Output{Unknown: true}, Meta{})
			r(h, 1, 20, 30, "a", 1)
		}, porcupine.Ok},
		{"unknown write never happened", func(h *History) {
			h.Add(0, Input{Kind: OpWrite, Key: 0, Value: "a"}, 0, 5, Output{Unknown: true}, Meta{})
			r(h, 1, 20, 30, Initial, 0)
			w(h, 1, "b", 40, 50, 1, 0x102)
		}, porcupine.Ok},
		{"unknown write seen then unseen", func(h *History) {
			h.Add(0, Input{Kind: OpWrite, Key: 0, Value: "a"}, 0, 5, Output{Unknown: true}, Meta{})
			r(h, 1, 20, 30, "a", 1)
			r(h, 1, 40, 50, Initial, 0)
		}, porcupine.Illegal},
		{"cas bad version while it matched", func(h *History) {
			h.Add(0, Input{Kind: OpCAS, Key: 0, Value: "a", Expect: 0}, 0, 10, Output{BadVersion: true}, Meta{})
		}, porcupine.Illegal},
		{"cas ok", func(h *History) {
			w(h, 0, "a", 0, 10, 1, 0x101)
			h.Add(0, Input{Kind: OpCAS, Key: 0, Value: "b", Expect: 1}, 20, 30, Output{Version: 2}, Meta{})
			r(h, 1, 40, 50, "b", 2)
		}, porcupine.Ok},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistory()
			tc.build(h)
			if got := check(t, h); got != tc.want {
				t.Fatalf("porcupine says %s, want %s", got, tc.want)
			}
		})
	}
}

// TestCheckLinearizableCatchesViolations runs the check Verify runs on
// histories of many clients over several keys, made up so that one read
// on one key goes back in time; everything else is linearizable. The
// check must find it, however many good operations surround it.
func TestCheckLinearizableCatchesViolations(t *testing.T) {
	build := func(stale bool) *History {
		h := NewHistory()
		var now int64
		version := map[int]int32{}
		value := map[int]string{0: Initial, 1: Initial, 2: Initial}
		for i := 0; i < 300; i++ {
			key, client := i%3, i%5
			now += 10
			if i%2 == 0 {
				version[key]++
				value[key] = fmt.Sprintf("c%d-%d", client, i)
				// Overlapping calls: each write is concurrent with the
				// read before it.
				h.Add(client, Input{Kind: OpWrite, Key: key, Value: value[key]}, now-15, now,
					Output{Version: version[key]}, Meta{Session: fmt.Sprint(client), Mzxid: int64(i + 1)})
				continue
			}
			v, ver := value[key], version[key]
			if stale && i == 201 {
				v, ver = Initial, 0 // the key as created, long after writes were acknowledged
			}
			h.Add(client, Input{Kind: OpRead, Key: key}, now-5, now, Output{Value: v, Version: ver}, Meta{Session: fmt.Sprint(client)})
		}
		return h
	}
	for _, stale := range []bool{false, true} {
		res, checked, _, err := build(stale).CheckLinearizable(Initial, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := porcupine.Ok
		if stale {
			want = porcupine.Illegal
		}
		if res != want || checked != 300 {
			t.Errorf("stale read %v: porcupine says %s over %d operations, want %s over 300", stale, res, checked, want)
		}
	}
}

func TestVersionAndSessionChecks(t *testing.T) {
	h := NewHistory()
	h.Add(0, Input{Kind: OpWrite, Key: 0, Value: "a"}, 0, 10, Output{Version: 1}, Meta{Session: "c0", Mzxid: 0x100000001})
	// A second leader's history gave the same version to another write.
	h.Add(1, Input{Kind: OpWrite, Key: 0, Value: "b"}, 20, 30, Output{Version: 1}, Meta{Session: "c1", Mzxid: 0x200000001})
	if bad := h.CheckVersions(); len(bad) == 0 {
		t.Fatal("two acknowledged writes with one version went unnoticed")
	}
	h = NewHistory()
	h.Add(0, Input{Kind: OpWrite, Key: 0, Value: "a"}, 0, 10, Output{Version: 1}, Meta{Session: "c0", Mzxid: 0x100000005})
	// A plain read on a member that had applied 0x100000007 shows the key
	// as before 0x100000005: impossible.
	h.Observe(Observation{Session: "c1", Key: 0, Version: 0, Mzxid: 0x100000001, ReplyZxid: 0x100000007})
	// One that had applied only 0x100000004 may.
	h.Observe(Observation{Session: "c2", Key: 0, Version: 0, Mzxid: 0x100000001, ReplyZxid: 0x100000004})
	// A session that had seen 0x100000006 may not, whatever the reply says.
	h.Observe(Observation{Session: "c3", Key: 0, Version: 0, Mzxid: 0x100000001, SeenZxid: 0x100000006})
	bad := h.CheckSessionOrder()
	if len(bad) != 2 {
		t.Fatalf("session order: %d violations, want 2: %q", len(bad), bad)
	}
}

func TestResolveUnknownWrites(t *testing.T) {
	h := NewHistory()
	// Seen by a read: it happened, as version 1.
	h.Add(0, Input{Kind: OpWrite, Key: 0, Value: "u1"}, 0, 5, Output{Unknown: true}, Meta{})
	h.Add(1, Input{Kind: OpRead, Key: 0}, 10, 20, Output{Value: "u1", Version: 1}, Meta{})
	// Never seen, and versions 1..2 are accounted for: it did not happen.
	h.Add(0, Input{Kind: OpWrite, Key: 0, Value: "u2"}, 30, 35, Output{Unknown: true}, Meta{})
	h.Add(1, Input{Kind: OpWrite, Key: 0, Value: "b"}, 40, 50, Output{Version: 2}, Meta{Mzxid: 0x102})
	// Never seen on a key with a gap (version 1 unexplained): kept pending.
	h.Add(0, Input{Kind: OpWrite, Key: 1, Value: "u3"}, 0, 5, Output{Unknown: true}, Meta{})
	h.Add(1, Input{Kind: OpWrite, Key: 1, Value: "c"}, 40, 50, Output{Version: 2}, Meta{Mzxid: 0x103})
	ops, happened, dropped := h.Resolved()
	if happened != 1 || dropped != 1 || len(ops) != 5 {
		t.Fatalf("happened %d, dropped %d, %d ops left; want 1, 1, 5", happened, dropped, len(ops))
	}
	if got := porcupine.CheckOperationsTimeout(RegisterModel(Initial), ops, 0); got != porcupine.Ok {
		t.Fatalf("porcupine: %s", got)
	}
}

var recheck = flag.String("ensembletest.recheck", "", "check again a history saved by a failed run (its .json)")

// TestRecheck checks a saved history again, with no time limit.
func TestRecheck(t *testing.T) {
	if *recheck == "" {
		t.Skip("pass -ensembletest.recheck=/tmp/zkit-linearizability-….json")
	}
	ops, err := LoadOperations(*recheck)
	if err != nil {
		t.Fatal(err)
	}
	model := RegisterModel(Initial)
	res, info := porcupine.CheckOperationsVerbose(model, ops, 0)
	t.Logf("%d operations: %s", len(ops), res)
	if res != porcupine.Ok {
		path := strings.TrimSuffix(*recheck, ".json") + "-recheck.html"
		if err := porcupine.VisualizePath(model, info, path); err == nil {
			t.Logf("visualization: %s", path)
		}
		t.Fail()
	}
}
