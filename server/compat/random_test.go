package compat

import (
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"zkit/server/proto"
)

var (
	randomSeeds = flag.Int("compat.seeds", 50, "number of random sequences (TestRandomSequences)")
	randomOps   = flag.Int("compat.ops", 200, "operations per random sequence")
	randomSeed  = flag.Int64("compat.seed", 0, "run only this seed of TestRandomSequences")
)

// gen produces one random operation sequence. The steps do not depend on
// the replies, so both servers get the same sequence.
type gen struct {
	rnd     *rand.Rand
	r       *R
	clients []*C
	nconn   int
}

var segs = []string{"a", "b", "c"}

// path picks a path in a small namespace under the scenario root: one to
// three levels of a, b, c (so creates and deletes collide often).
func (g *gen) path() string {
	depth := 1 + g.rnd.Intn(3)
	parts := make([]string, depth)
	for i := range parts {
		parts[i] = segs[g.rnd.Intn(len(segs))]
	}
	return g.r.P(strings.Join(parts, "/"))
}

func (g *gen) version() int32 {
	if g.rnd.Intn(2) == 0 {
		return -1
	}
	return int32(g.rnd.Intn(3))
}

func (g *gen) data() string {
	return fmt.Sprintf("d%d", g.rnd.Intn(100))
}

func (g *gen) mode() (proto.Op, int32) {
	switch n := g.rnd.Intn(100); {
	case n < 40:
		return proto.OpCreate, proto.ModePersistent
	case n < 55:
		return proto.OpCreate2, proto.ModeEphemeral
	case n < 70:
		return proto.OpCreate, proto.ModePersistentSequential
	case n < 80:
		return proto.OpCreate2, proto.ModeEphemeralSequential
	case n < 92:
		return proto.OpCreateContainer, proto.ModeContainer
	default:
		return proto.OpCreateTTL, proto.ModePersistentWithTTL
	}
}

func (g *gen) client() *C { return g.clients[g.rnd.Intn(len(g.clients))] }

func (g *gen) subop() proto.MultiOp {
	switch g.rnd.Intn(4) {
	case 0:
		_, m := g.mode()
		if m == proto.ModePersistentWithTTL {
			return mCreateTTL(g.path(), g.data(), open, m, 100000)
		}
		if m == proto.ModeContainer {
			return mCreateContainer(g.path(), g.data(), open)
		}
		return mCreate(g.path(), g.data(), open, m)
	case 1:
		return mDelete(g.path(), g.version())
	case 2:
		return mSetData(g.path(), g.data(), g.version())
	default:
		return mCheck(g.path(), g.version())
	}
}

func (g *gen) step() {
	c := g.client()
	switch n := g.rnd.Intn(100); {
	case n < 25:
		op, m := g.mode()
		c.CreateOp(op, g.path(), []byte(g.data()), open, m, 100000)
	case n < 40:
		c.Delete(g.path(), g.version())
	case n < 52:
		c.SetData(g.path(), g.data(), g.version())
	case n < 62:
		c.GetData(g.path(), g.rnd.Intn(2) == 0)
	case n < 70:
		c.Exists(g.path(), g.rnd.Intn(2) == 0)
	case n < 76:
		c.GetChildren(g.path(), g.rnd.Intn(2) == 0)
	case n < 82:
		c.GetChildren2(g.path(), g.rnd.Intn(2) == 0)
	case n < 92:
		ops := make([]proto.MultiOp, 1+g.rnd.Intn(4))
		for i := range ops {
			ops[i] = g.subop()
		}
		c.Multi(ops...)
	case n < 95:
		c.MultiRead(mGetData(g.path()), mGetChildren(g.path()))
	case n < 97:
		c.GetAllChildrenNumber(g.path())
	default:
		// The session ends (its ephemerals go) and a new one replaces it.
		i := g.rnd.Intn(len(g.clients))
		g.clients[i].Close()
		g.nconn++
		g.clients[i] = g.r.Connect(fmt.Sprintf("c%d", g.nconn))
	}
}

func randomScenario(seed int64, nops int) scenario {
	return func(r *R) {
		g := &gen{rnd: rand.New(rand.NewSource(seed)), r: r}
		g.clients = []*C{r.Connect("c0"), r.Connect("c1")}
		g.nconn = 1
		g.clients[0].Create(r.P(""), "", open, proto.ModePersistent)
		for i := 0; i < nops; i++ {
			g.step()
		}
		for _, c := range g.clients {
			c.Close()
		}
		r.Connect("end").GetAllChildrenNumber(r.P(""))
	}
}

// TestRandomSequences runs seeded random sequences of create / delete /
// setData / getData / exists / getChildren / multi with random paths in a
// small namespace and random versions against both servers and compares
// them step by step. The first failing seed's diff is shown; rerun one
// seed with -compat.seed=N.
func TestRandomSequences(t *testing.T) {
	envShared.start(t)
	seeds := make([]int64, 0, *randomSeeds)
	if *randomSeed != 0 {
		seeds = append(seeds, *randomSeed)
	} else {
		for i := 1; i <= *randomSeeds; i++ {
			seeds = append(seeds, int64(i))
		}
	}
	var failed []int64
	used := map[string]int{}
	for _, seed := range seeds {
		name := fmt.Sprintf("Random-%d", seed)
		fn := randomScenario(seed, *randomOps)
		a := record(t, envShared.tgts[0], name, fn)
		z := record(t, envShared.tgts[1], name, fn)
		d := diffTranscripts(a, z)
		for k, v := range d.used {
			used[k] += v
		}
		if d.bad == 0 {
			continue
		}
		if len(failed) == 0 {
			t.Errorf("seed %d: zkit differs from Apache ZooKeeper in %d place(s) (-A apache, +Z zkit); rerun with -compat.seed=%d:\n%s",
				seed, d.bad, seed, d.text)
		}
		failed = append(failed, seed)
	}
	if len(used) > 0 {
		t.Logf("deliberate deviations seen: %s", transcriptDiff{used: used}.usedString())
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d seeds differ: %v", len(failed), len(seeds), failed)
	}
}
