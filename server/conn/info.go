package conn

// Read-only accessors for the four-letter words (server/admin).

// Handshaking reports whether the connection has not (yet) established or
// resumed a session: it is answering a four-letter word, or its first
// request has not been read yet.
func (c *Conn) Handshaking() bool {
	select {
	case <-c.ready:
		return false
	default:
		return true
	}
}

// LatencyTotals returns the sum (ms) and number of the request latencies
// counted since the connection opened or its stats were last reset, for an
// average computed as ZooKeeper computes it (integer division).
func (c *Conn) LatencyTotals() (total, count int64) {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	return c.stats.totalLat, c.stats.latCount
}

// Closed reports whether the connection has been closed (its socket may
// still be in the set of open connections for a moment). ZooKeeper removes
// a connection from its set before it closes the socket, so a closed
// connection is no longer counted or listed.
func (c *Conn) Closed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}
