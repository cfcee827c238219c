package storage

import (
	"sort"
	"time"
)

// SessionPlan says what becomes of the sessions a recovered tree holds.
type SessionPlan struct {
	// Restore maps each surviving session to how long it has left before
	// it expires, unless its client comes back.
	Restore map[int64]time.Duration
	// Expired lists the sessions whose timeout ran out while the server
	// was down; they must be closed through the pipeline once serving, so
	// their ephemerals go and watches fire as for any expiry.
	Expired []int64
}

// PlanSessions charges every session's timeout with the downtime: a session
// whose timeout is shorter expired while the server was down; the others
// keep timeout − downtime, at least one tick. With the downtime unknown
// (no heartbeat) every session keeps its full timeout, as in ZooKeeper.
func PlanSessions(sessions map[int64]int32, downtime time.Duration, tick time.Duration) SessionPlan {
	plan := SessionPlan{Restore: make(map[int64]time.Duration, len(sessions))}
	for id, timeout := range sessions {
		left := time.Duration(timeout)*time.Millisecond - max(downtime, 0)
		if left <= 0 {
			plan.Expired = append(plan.Expired, id)
			continue
		}
		plan.Restore[id] = max(left, tick)
	}
	sort.Slice(plan.Expired, func(i, j int) bool { return plan.Expired[i] < plan.Expired[j] })
	return plan
}
