package storage

import (
	"sync"

	"zkit/server/pipeline"
	"zkit/server/proto"
)

// maxQueued bounds the entries waiting for the log: past it, Replicate
// blocks the prep goroutine, and so, through the pipeline's queue, the
// clients. A slow disk slows writers down instead of filling memory.
const maxQueued = 64 << 10

// Replicator is the pipeline.Replicator of a standalone server: a log
// goroutine takes everything queued since its last sync (group commit),
// writes it as one batch, syncs it, and only then hands exactly those
// entries, in order and markers included, to commit.
//
// When a write or a sync fails the replicator stops for good (fail-stop):
// the failed batch and everything after it are never committed, so no
// client is told a write succeeded that may not be on disk; onFatal is
// called once, from its own goroutine, so the server can stop. ZooKeeper's
// SyncRequestProcessor exits the JVM in the same case.
type Replicator struct {
	log     *Log
	commit  func([]pipeline.Entry)
	onFatal func(error)

	mu     sync.Mutex
	cond   *sync.Cond
	queue  []pipeline.Entry
	queued int64 // entries ever queued
	done   int64 // entries committed, or dropped after a failure
	closed bool
	err    error
	exited chan struct{}
}

func newReplicator(l *Log, commit func([]pipeline.Entry), onFatal func(error)) *Replicator {
	r := &Replicator{log: l, commit: commit, onFatal: onFatal, exited: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	go r.run()
	return r
}

// Replicate implements pipeline.Replicator. It returns at once unless the
// queue is full.
func (r *Replicator) Replicate(entries []pipeline.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) >= maxQueued && r.err == nil && !r.closed {
		r.cond.Wait()
	}
	r.queued += int64(len(entries))
	if r.err != nil || r.closed {
		r.done += int64(len(entries)) // dropped: never acknowledged
		r.cond.Broadcast()
		return
	}
	r.queue = append(r.queue, entries...)
	r.cond.Broadcast()
}

// Flush blocks until every entry queued before the call is committed, or
// the log has failed. The pipeline calls it when it stops.
func (r *Replicator) Flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	target := r.queued
	for r.done < target {
		r.cond.Wait()
	}
}

// Err returns the failure that stopped the log, if any.
func (r *Replicator) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close flushes, stops the log goroutine and closes the log.
func (r *Replicator) Close() error {
	r.Flush()
	r.mu.Lock()
	r.closed = true
	r.cond.Broadcast()
	r.mu.Unlock()
	<-r.exited
	return r.log.Close()
}

func (r *Replicator) run() {
	defer close(r.exited)
	var txns []*proto.Txn
	for {
		batch, ok := r.take()
		if !ok {
			return
		}
		txns = txns[:0]
		for i := range batch {
			if batch[i].Txn != nil {
				txns = append(txns, batch[i].Txn)
			}
		}
		err := r.log.Append(txns)
		if err == nil {
			r.commit(batch)
		}
		r.finish(batch, err)
	}
}

// take waits for queued entries and takes them all.
func (r *Replicator) take() ([]pipeline.Entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) == 0 {
		if r.closed || r.err != nil {
			return nil, false
		}
		r.cond.Wait()
	}
	// The batch goes to the apply goroutine, which keeps it: a new queue
	// every time, never a reused one.
	batch := r.queue
	r.queue = nil
	r.cond.Broadcast() // room for blocked producers
	return batch, true
}

// finish accounts for a batch; after a failure it drops what is queued.
func (r *Replicator) finish(batch []pipeline.Entry, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done += int64(len(batch))
	if err != nil && r.err == nil {
		r.err = err
		r.done += int64(len(r.queue))
		r.queue = nil
		if r.onFatal != nil {
			go r.onFatal(err)
		}
	}
	r.cond.Broadcast()
}
