package bench

import (
	"os"
	"path/filepath"
	"testing"

	"zkit/server/config"
)

// The zoo.cfg the suite gives zkit must load, and carry what it says.
func TestZkitConfigLoads(t *testing.T) {
	for _, fsync := range []bool{true, false} {
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "zoo.cfg")
		if err := os.WriteFile(path, []byte(ZkitConfig(Spec{Members: 1, ForceSync: fsync, TickTime: 500}, data)), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ForceSync != fsync || cfg.TickTimeMs != 500 || cfg.DataDir != data || cfg.MaxClientCnxns != 0 || !cfg.Standalone() {
			t.Errorf("forceSync=%v: loaded %+v", fsync, cfg)
		}
	}
}
