package storage

import (
	"zkit/server/proto"
	"zkit/server/tree"
)

// applyReplayed applies a txn replayed from the log over a fuzzy snapshot
// (tree.ApplyReplay says which cases need more than tree.Apply).
func applyReplayed(t *tree.Tree, txn *proto.Txn) { t.ApplyReplay(txn) }
