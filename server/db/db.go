// Package db is a server's in-memory database: the tree behind a
// read-write lock, the watch tables, and the read operations clients run
// against them (ZKDatabase plus the read half of FinalRequestProcessor).
// Transactions are applied by one goroutine under the write lock; reads run
// concurrently under the read lock, so a read sees a transaction entirely
// or not at all, and a watch it leaves is in place before the next change.
package db

import (
	"sync"

	"zkit/server/auth"
	"zkit/server/tree"
	"zkit/server/watch"
)

// DB is the tree, its lock and its watches.
type DB struct {
	mu      sync.RWMutex
	tree    *tree.Tree
	Watches *watch.Manager
	Auth    *auth.Registry
}

// New returns a database over an empty tree.
func New(reg *auth.Registry, extended bool) *DB {
	d := &DB{tree: tree.New(), Watches: watch.NewManager(), Auth: reg}
	d.tree.Extended = extended
	d.tree.Events = d.Watches
	return d
}

// Replace swaps in a restored tree (snapshot load); watches are kept.
func (d *DB) Replace(t *tree.Tree) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t.Extended = d.tree.Extended
	t.Events = d.Watches
	d.tree = t
}

// Read runs fn with the tree under the read lock.
func (d *DB) Read(fn func(t *tree.Tree)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	fn(d.tree)
}

// Write runs fn with the tree under the write lock.
func (d *DB) Write(fn func(t *tree.Tree)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn(d.tree)
}

// LastZxid returns the zxid of the last applied transaction.
func (d *DB) LastZxid() int64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.tree.LastZxid()
}

// ReadPausing runs fn under the read lock. fn may call pause to let writers
// in: pause releases the lock, runs unlocked (if not nil) and takes the lock
// again. A long scan — a fuzzy snapshot — walks the tree this way without
// stopping the apply loop for more than a chunk. The tree must not be
// Replaced while fn runs.
func (d *DB) ReadPausing(fn func(t *tree.Tree, pause func(unlocked func()))) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	fn(d.tree, func(unlocked func()) {
		d.mu.RUnlock()
		defer d.mu.RLock()
		if unlocked != nil {
			unlocked()
		}
	})
}
