package storage

import (
	"errors"
	"fmt"
)

// CorruptError reports damage that recovery must not repair: acknowledged
// data is missing or altered. The server refuses to start.
type CorruptError struct {
	File   string
	Offset int64 // -1 when the damage is not at one place (a gap in the log)
	Reason string
}

func (e *CorruptError) Error() string {
	where := e.File
	if e.Offset >= 0 {
		where = fmt.Sprintf("%s at offset %d", e.File, e.Offset)
	}
	return fmt.Sprintf("storage: %s: %s; acknowledged transactions may be lost, refusing to start "+
		"(inspect it with 'zkit datadir verify', restore the data directory from a replica or a backup)", where, e.Reason)
}

// ErrClosed is returned by a log or replicator used after Close.
var ErrClosed = errors.New("storage: closed")

// errLogFailed wraps the first write or sync failure of the log: the log is
// then stopped for good (see Replicator).
type errLogFailed struct{ err error }

func (e *errLogFailed) Error() string {
	return "storage: the txn log failed, no further writes are accepted: " + e.err.Error()
}

func (e *errLogFailed) Unwrap() error { return e.err }
