package compat

import (
	"testing"

	"zkit/server/proto"
)

// TestQuota: quotas made as zkCli's setquota makes them (the quota path
// under /zookeeper/quota, its zookeeper_limits and a zookeeper_stats the
// server fills in), the stats the server keeps while the subtree changes,
// hard limits refused with QUOTAEXCEEDED and soft ones only logged (both
// servers run with zookeeper.enforceQuota=true), and delquota.
func TestQuota(t *testing.T) {
	Run(t, envShared, "Quota", func(r *R) {
		c := r.Connect("c")
		c.Create(r.P(""), "", open, proto.ModePersistent)
		c.Create(r.P("q"), "12345", open, proto.ModePersistent)
		c.Create(r.P("soft"), "", open, proto.ModePersistent)
		// The quota nodes mirror the target's path under /zookeeper/quota.
		parts := []string{"/zookeeper/quota" + r.P("")}
		parts = append(parts, parts[0]+"/q", parts[0]+"/soft")
		for _, p := range parts {
			c.Create(p, "", open, proto.ModePersistent)
		}
		c.Create(parts[1]+"/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=20;countHardLimit=3", open, proto.ModePersistent)
		c.Create(parts[1]+"/zookeeper_stats", "count=0,bytes=0", open, proto.ModePersistent)
		c.GetData(parts[1]+"/zookeeper_stats", false)
		c.Create(r.P("q/a"), "abc", open, proto.ModePersistent)
		c.GetData(parts[1]+"/zookeeper_stats", false)
		c.Create(r.P("q/b"), "", open, proto.ModePersistent)
		c.Create(r.P("q/c"), "", open, proto.ModePersistent) // a fourth node: over the count
		c.SetData(r.P("q/a"), "0123456789abcdef", -1)        // over the bytes
		c.SetData(r.P("q/a"), "0123456789", -1)
		c.GetData(parts[1]+"/zookeeper_stats", false)
		c.Delete(r.P("q/b"), -1)
		c.Create(r.P("q/c"), "", open, proto.ModePersistent)
		c.GetData(parts[1]+"/zookeeper_stats", false)
		// A soft limit only warns.
		c.Create(parts[2]+"/zookeeper_limits", "count=1,bytes=2", open, proto.ModePersistent)
		c.Create(parts[2]+"/zookeeper_stats", "count=0,bytes=0", open, proto.ModePersistent)
		c.Create(r.P("soft/x"), "long data", open, proto.ModePersistent)
		c.GetData(parts[2]+"/zookeeper_stats", false)
		// delquota: without its limits node the path has no quota.
		c.Delete(parts[1]+"/zookeeper_limits", -1)
		c.Create(r.P("q/d"), "", open, proto.ModePersistent)
		c.Create(r.P("q/e"), "", open, proto.ModePersistent)
		c.GetData(parts[1]+"/zookeeper_stats", false)
	})
}
