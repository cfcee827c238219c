package storage

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"zkit/server/storage/vfs"
)

// The heartbeat file holds the time, in ms since the epoch, at which the
// server was last seen alive: it is rewritten every tick while serving and
// once more at a clean stop. At the next start, now minus that time is the
// downtime, which session timeouts are charged with (see SessionPlan).
// ZooKeeper has no such file: it gives every restored session its full
// timeout again.
type heartbeat struct {
	fs   vfs.FS
	path string
	f    vfs.File
	sync bool
}

const heartbeatWidth = 20

func newHeartbeat(fs vfs.FS, dir string, sync bool) *heartbeat {
	return &heartbeat{fs: fs, path: filepath.Join(dir, heartbeatName), sync: sync}
}

// read returns the time the file holds.
func (h *heartbeat) read() (time.Time, bool) {
	b, err := vfs.ReadAll(h.fs, h.path)
	if err != nil {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// beat records now. It overwrites the file in place: one small write, and
// a sync unless forceSync=no.
func (h *heartbeat) beat(now time.Time) error {
	if h.f == nil {
		f, err := h.fs.Create(h.path)
		if err != nil {
			return err
		}
		h.f = f
		if err := h.fs.SyncDir(filepath.Dir(h.path)); err != nil {
			return err
		}
	}
	line := fmt.Sprintf("%*d\n", heartbeatWidth-1, now.UnixMilli())
	if _, err := h.f.WriteAt([]byte(line), 0); err != nil {
		return err
	}
	if h.sync {
		return h.f.Sync()
	}
	return nil
}

func (h *heartbeat) close() {
	if h.f != nil {
		h.f.Close()
		h.f = nil
	}
}
