package zab

// Committed is one step of the stream a member applies, in order: a
// committed entry, or a marker a proposer placed between entries (a local
// sync, for instance). RemoteSync marks the point where the leader answered
// a sync this learner forwarded.
type Committed struct {
	Entry      *Entry
	Marker     any
	RemoteSync bool
}

// RoleChange reports a new role, or a change in whether the member serves.
type RoleChange struct {
	Role    Role
	Leader  uint64 // 0 while looking
	Epoch   uint32 // the epoch being led or followed
	Serving bool   // synchronized: may serve clients (and, leading, accept proposals)
}

// Ready is what the driver must do after an input. Process the fields in
// this order:
//
//  1. Truncate, then Snapshot: rewrite the log (and, for Truncate, rebuild
//     any applied state beyond the truncation point) before anything else.
//  2. AcceptedEpoch/CurrentEpoch: make them durable.
//  3. Entries: append to the log; report durability later with Persisted.
//  4. Messages: send (only now: they may depend on 1 and 2).
//  5. Committed: apply in order; report progress with Applied.
//  6. Received: hand application messages to their handlers.
type Ready struct {
	Role *RoleChange

	Truncate *int64 // discard log entries after this zxid
	// Snapshot asks to replace the state and the log with the leader's
	// snapshot as of this zxid (the data travels with the SNAP message the
	// driver received; the driver keeps it until this point).
	Snapshot *int64

	AcceptedEpoch *uint32
	CurrentEpoch  *uint32

	Entries  []Entry
	Messages []Message

	Committed []Committed
	Received  []Message

	// Membership is the configuration that became active (a committed
	// reconfig, or the one a new leader announced); the driver updates
	// whatever depends on who the members are.
	Membership *Membership
}

// Empty reports whether there is nothing to do.
func (r *Ready) Empty() bool {
	return r.Role == nil && r.Truncate == nil && r.Snapshot == nil && r.AcceptedEpoch == nil &&
		r.CurrentEpoch == nil && len(r.Entries) == 0 && len(r.Messages) == 0 &&
		len(r.Committed) == 0 && len(r.Received) == 0 && r.Membership == nil
}
