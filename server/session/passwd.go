// Package session tracks client sessions: ids, passwords, timeouts and
// their expiry in tickTime buckets, as ZooKeeper's SessionTrackerImpl and
// ExpiryQueue do.
package session

// superSecret seeds session passwords (ZooKeeperServer.superSecret).
const superSecret int64 = 0xB3415C00

// Password returns the password of a session: 16 bytes from
// java.util.Random seeded with id ^ superSecret, exactly as ZooKeeper
// generates them, so that any member can check a resuming client.
func Password(id int64) []byte {
	r := newJavaRandom(id ^ superSecret)
	p := make([]byte, 16)
	r.nextBytes(p)
	return p
}

// javaRandom is java.util.Random's 48-bit linear congruential generator.
type javaRandom struct{ seed int64 }

const (
	jrMultiplier = 0x5DEECE66D
	jrAddend     = 0xB
	jrMask       = (1 << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ jrMultiplier) & jrMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*jrMultiplier + jrAddend) & jrMask
	return int32(uint64(r.seed) >> (48 - bits))
}

func (r *javaRandom) nextBytes(b []byte) {
	for i := 0; i < len(b); {
		rnd := r.next(32)
		for n := min(len(b)-i, 4); n > 0; n-- {
			b[i] = byte(rnd)
			i++
			rnd >>= 8
		}
	}
}
