package session

// Reset forgets every session and starts tracking the given ones afresh,
// each with its full timeout: a member that becomes leader takes over the
// sessions of the replicated state, as ZooKeeper's LeaderSessionTracker
// does.
func (t *Tracker) Reset(sessions map[int64]int32) {
	t.mu.Lock()
	t.sessions = map[int64]*Session{}
	t.buckets = map[int64]map[int64]*Session{}
	t.mu.Unlock()
	for id, timeout := range sessions {
		t.Add(id, timeout)
	}
}
