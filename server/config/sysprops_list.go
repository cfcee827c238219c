package config

import "strings"

// SystemProperties returns the Java system properties Apache 3.8's
// QuorumPeerConfig sets from this config: "zookeeper."+key for every key
// of the static file it does not parse itself (server.N lines of a static
// config included), The AdminServer's system_properties
// command shows them.
func (c *Config) SystemProperties() map[string]string {
	out := map[string]string{}
	for k, v := range c.Raw {
		if staticKeys[k] != nil || strings.HasPrefix(k, "metricsProvider.") {
			continue
		}
		out["zookeeper."+k] = v
	}
	return out
}
