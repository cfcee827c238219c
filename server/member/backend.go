package member

import (
	"zkit/server/db"
	"zkit/server/storage"
	"zkit/server/tree"
	"zkit/server/zab"
)

// storeBackend is the quorum.Backend of a member over its Store.
type storeBackend struct {
	st       *storage.Store
	extended bool
}

func (b storeBackend) Epochs() (uint32, uint32)          { return b.st.Epochs() }
func (b storeBackend) SaveEpochs(a, c uint32) error      { return b.st.SaveEpochs(a, c) }
func (b storeBackend) DynamicConfig() []byte             { return b.st.DynamicConfig() }
func (b storeBackend) SaveDynamicConfig(c []byte) error  { return b.st.SaveDynamicConfig(c) }
func (b storeBackend) Truncate(z int64) error            { return b.st.Truncate(z) }
func (b storeBackend) Tail(max int) (int64, []zab.Entry) { return b.st.Tail(max) }
func (b storeBackend) Rebuild(z int64) (*tree.Tree, error) {
	return b.st.Rebuild(z)
}

func (b storeBackend) Append(es []zab.Entry, done func(int64)) { b.st.AppendEntries(es, done) }

func (b storeBackend) InstallSnapshot(z int64, t *tree.Tree) error {
	return b.st.InstallSnapshot(z, t)
}

func (b storeBackend) EncodeSnapshot(d *db.DB) ([]byte, int64, error) {
	return storage.EncodeSnapshot(d)
}

func (b storeBackend) DecodeSnapshot(data []byte) (*tree.Tree, error) {
	return storage.DecodeSnapshot(data, b.extended)
}
