package member

import (
	"testing"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// Quotas as zkCli's setquota makes them: hard limits refuse writes with
// QUOTAEXCEEDED when enforceQuota is on, and the stats node follows the
// subtree.
func TestQuotaHardLimits(t *testing.T) {
	s := startServer(t, Options{EnforceQuota: true})
	c := connect(t, s)
	acl := zk.WorldACL(zk.PermAll)
	for _, p := range []string{"/app", "/zookeeper/quota/app"} {
		_, err := c.Create(p, nil, 0, acl)
		require.NoError(t, err)
	}
	_, err := c.Create("/zookeeper/quota/app/zookeeper_limits", []byte("count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=2"), 0, acl)
	require.NoError(t, err)
	_, err = c.Create("/zookeeper/quota/app/zookeeper_stats", []byte("count=0,bytes=0"), 0, acl)
	require.NoError(t, err)
	stats := func() string {
		d, _, err := c.Get("/zookeeper/quota/app/zookeeper_stats")
		require.NoError(t, err)
		return string(d)
	}
	require.Equal(t, "count=1,bytes=0", stats())
	_, err = c.Create("/app/a", []byte("12345"), 0, acl)
	require.NoError(t, err)
	require.Equal(t, "count=2,bytes=5", stats())
	// go-zookeeper has no name for QUOTAEXCEEDED (-125).
	_, err = c.Create("/app/b", nil, 0, acl)
	require.ErrorContains(t, err, "-125")
	_, err = c.Set("/app/a", []byte("0123456789ab"), -1)
	require.ErrorContains(t, err, "-125")
	require.NoError(t, c.Delete("/zookeeper/quota/app/zookeeper_limits", -1))
	_, err = c.Create("/app/b", nil, 0, acl)
	require.NoError(t, err)
	// Without limits the path has no quota: its stats are no longer kept.
	require.Equal(t, "count=2,bytes=5", stats())
}
