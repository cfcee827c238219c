package ensemble

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"zkit/server/quorum"
)

// A rendezvous directory lets members run as separate processes bind port
// 0 and still find each other: each writes its bound addresses to
// <dir>/<id>.json and waits for everyone else's. A member that restarts
// finds its file and binds the same ports again, so its peers and clients
// keep their addresses for it.

// Addrs are a member's addresses as recorded in a rendezvous directory.
type Addrs struct {
	ID       uint64 `json:"id"`
	Client   string `json:"client"`
	Quorum   string `json:"quorum"`
	Election string `json:"election"`
}

func rendezvousFile(dir string, id uint64) string {
	return filepath.Join(dir, strconv.FormatUint(id, 10)+".json")
}

// ReadAddrs returns what member id recorded, if anything.
func ReadAddrs(dir string, id uint64) (Addrs, bool, error) {
	b, err := os.ReadFile(rendezvousFile(dir, id))
	if os.IsNotExist(err) {
		return Addrs{}, false, nil
	}
	if err != nil {
		return Addrs{}, false, err
	}
	var a Addrs
	if err := json.Unmarshal(b, &a); err != nil {
		return Addrs{}, false, fmt.Errorf("%s: %w", rendezvousFile(dir, id), err)
	}
	return a, true, nil
}

// WriteAddrs records a member's addresses, atomically.
func WriteAddrs(dir string, a Addrs) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	final := rendezvousFile(dir, a.ID)
	tmp := final + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

// WaitAddrs waits until every member in ids has recorded its addresses.
func WaitAddrs(dir string, ids []uint64, timeout time.Duration) (map[uint64]Addrs, error) {
	deadline := time.Now().Add(timeout)
	for {
		out := map[uint64]Addrs{}
		for _, id := range ids {
			a, ok, err := ReadAddrs(dir, id)
			if err != nil {
				return nil, err
			}
			if ok {
				out[id] = a
			}
		}
		if len(out) == len(ids) {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("rendezvous in %s: %d of %d members recorded their addresses in %v", dir, len(out), len(ids), timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Peers turns recorded addresses into a member's peer map.
func Peers(all map[uint64]Addrs, self uint64) map[uint64]quorum.Addrs {
	out := map[uint64]quorum.Addrs{}
	for id, a := range all {
		if id != self {
			out[id] = quorum.Addrs{Quorum: a.Quorum, Election: a.Election}
		}
	}
	return out
}
