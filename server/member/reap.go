package member

import "zkit/server/tree"

// reapable lists containers and TTL nodes due for deletion
// (ContainerManager.getCandidates).
func (s *Server) reapable() []string {
	now := s.opts.Now().UnixMilli()
	var out []string
	s.DB.Read(func(t *tree.Tree) {
		for _, p := range t.Containers() {
			if n := t.Get(p); n != nil && n.NumChildren() == 0 && n.Cversion > 0 {
				out = append(out, p)
			}
		}
		for _, p := range t.TTLs() {
			n := t.Get(p)
			if n == nil || n.NumChildren() > 0 || tree.KindOf(n.Owner, true) != tree.OwnerTTL {
				continue
			}
			if ttl := tree.TTLOf(n.Owner); ttl != 0 && now-n.Mtime > ttl {
				out = append(out, p)
			}
		}
	})
	return out
}
