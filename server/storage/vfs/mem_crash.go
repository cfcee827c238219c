package vfs

import "bytes"

// crashLocked freezes the file system and builds the image a reboot finds.
func (m *MemFS) crashLocked() {
	if m.dead {
		return
	}
	m.dead = true
	img := NewMem(m.torn, m.rng.Uint64())
	survivors := map[*inode]*inode{}
	for path, d := range m.dirs {
		entries := make(map[string]*inode, len(d.durable))
		for name, ino := range d.durable {
			entries[name] = ino
		}
		if m.torn && len(d.pending) > 0 {
			// The file system journals directory changes in order: some
			// prefix of them may have reached the disk.
			for _, c := range d.pending[:m.rng.IntN(len(d.pending)+1)] {
				c.apply(entries)
			}
		}
		nd := &memDir{live: map[string]*inode{}, durable: map[string]*inode{}}
		for name, ino := range entries {
			s := survivors[ino]
			if s == nil {
				s = m.survivor(ino)
				survivors[ino] = s
			}
			nd.live[name] = s
			nd.durable[name] = s
		}
		img.dirs[path] = nd
	}
	m.image = img
	close(m.crashed)
}

// survivor returns what is left of a file after the power loss: its synced
// data, plus, with torn writes, random unsynced pages and size.
func (m *MemFS) survivor(ino *inode) *inode {
	data := clone(ino.durable)
	if m.torn && !bytes.Equal(ino.data, ino.durable) {
		size := len(ino.durable)
		if m.rng.IntN(2) == 0 {
			size = len(ino.data)
		}
		out := make([]byte, size)
		copy(out, ino.durable)
		for lo := 0; lo < size; lo += PageSize {
			hi := min(lo+PageSize, size)
			if m.rng.IntN(2) == 0 {
				continue // this page never left the cache
			}
			clear(out[lo:hi])
			if lo < len(ino.data) {
				copy(out[lo:hi], ino.data[lo:min(hi, len(ino.data))])
			}
		}
		data = out
	}
	return &inode{data: data, durable: clone(data)}
}
