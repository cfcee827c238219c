package storage

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// File names in the storage directories.
const (
	subdir         = "zkit"
	segmentPrefix  = "log."
	snapshotPrefix = "snapshot."
	tmpSuffix      = ".tmp"
	heartbeatName  = "heartbeat"
)

// Dir returns the storage directory under a dataDir or dataLogDir.
func Dir(base string) string { return filepath.Join(base, subdir) }

func segmentName(first int64) string { return fmt.Sprintf("%s%016x", segmentPrefix, uint64(first)) }

func snapshotName(z int64) string { return fmt.Sprintf("%s%016x", snapshotPrefix, uint64(z)) }

// parseName returns the zxid in a file name of the given prefix.
func parseName(name, prefix string) (int64, bool) {
	hex, ok := strings.CutPrefix(name, prefix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return 0, false
	}
	return int64(v), true
}

// ZxidString formats a zxid as ZooKeeper tools print it.
func ZxidString(z int64) string { return fmt.Sprintf("0x%x", uint64(z)) }
