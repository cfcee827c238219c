package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Quorum is the ensemble membership: the server.N lines, and for
// hierarchical quorums the group.N and weight.N lines, plus the config
// version (Apache's QuorumMaj / QuorumHierarchical).
type Quorum struct {
	Servers []Server          // sorted by ID; empty for a plain standalone config
	Groups  map[int64][]int64 // group id -> server ids; nil unless hierarchical
	Weights map[int64]int64   // server id -> weight; nil unless hierarchical
	Version int64             // from "version=" (hex) or the dynamic file's name suffix
}

// Server returns the server with the given id, or nil.
func (q *Quorum) Server(id int64) *Server {
	i, ok := slices.BinarySearchFunc(q.Servers, id, func(s Server, id int64) int { return cmp.Compare(s.ID, id) })
	if !ok {
		return nil
	}
	return &q.Servers[i]
}

// Hierarchical reports whether group.N / weight.N lines define the quorum.
func (q *Quorum) Hierarchical() bool { return q.Groups != nil }

// Voters returns the number of participants (servers that vote).
func (q *Quorum) Voters() int {
	n := 0
	for _, s := range q.Servers {
		if !s.Observer {
			n++
		}
	}
	return n
}

// isQuorumKey reports whether a key belongs to the membership section
// (Apache: startsWith "server.", "group" or "weight", or equals "version").
func isQuorumKey(key string) bool {
	return strings.HasPrefix(key, "server.") || strings.HasPrefix(key, "group") ||
		strings.HasPrefix(key, "weight") || key == "version"
}

// quorumBuilder turns membership entries into a Quorum.
type quorumBuilder struct {
	file       string
	multiAddr  bool
	q          Quorum
	serverLine map[int64]int
}

// buildQuorum parses the membership entries of one file. In strict mode
// (a dynamic config file) any other key is an error, as in Apache; in the
// static file other keys are skipped.
func buildQuorum(file string, entries []entry, strict, multiAddr bool) (Quorum, error) {
	b := &quorumBuilder{file: file, multiAddr: multiAddr, serverLine: map[int64]int{}}
	for _, e := range entries {
		if strings.HasPrefix(e.key, "group") || strings.HasPrefix(e.key, "weight") {
			b.q.Groups, b.q.Weights = map[int64][]int64{}, map[int64]int64{}
			break
		}
	}
	for _, e := range entries {
		if !isQuorumKey(e.key) {
			if strict {
				return b.q, &Error{File: file, Line: e.line, Key: e.key, Msg: "unrecognised parameter in a dynamic config file (only server.N, group.N and weight.N)"}
			}
			continue
		}
		if err := b.add(e); err != nil {
			return b.q, &Error{File: file, Line: e.line, Key: e.key, Msg: err.Error()}
		}
	}
	slices.SortFunc(b.q.Servers, func(a, b Server) int { return cmp.Compare(a.ID, b.ID) })
	return b.q, b.finishGroups()
}

func (b *quorumBuilder) add(e entry) error {
	switch {
	case e.key == "version":
		v, err := parseLong(e.value, 16)
		b.q.Version = v
		return err
	case strings.HasPrefix(e.key, "server."):
		return b.addServer(e)
	case strings.HasPrefix(e.key, "group"):
		return b.addGroup(e)
	default:
		return b.addWeight(e)
	}
}

// keyID parses the id after the first '.' of a key as Long.parseLong does
// (Apache takes the whole key when there is no dot, which then fails).
func keyID(key string) (int64, error) {
	id, err := parseLong(key[strings.Index(key, ".")+1:], 10)
	if err != nil {
		return 0, fmt.Errorf("bad id: %w", err)
	}
	return id, nil
}

func (b *quorumBuilder) addServer(e entry) error {
	id, err := keyID(e.key)
	if err != nil {
		return err
	}
	s, err := ParseServer(id, e.value)
	if err != nil {
		return err
	}
	if first, dup := b.serverLine[id]; dup {
		return fmt.Errorf("server id %d is already defined on line %d", id, first)
	}
	if len(s.Addrs) > 1 && !b.multiAddr {
		return fmt.Errorf("several addresses given, but multiAddress.enabled is not true")
	}
	b.q.Servers = append(b.q.Servers, s)
	b.serverLine[id] = e.line
	return nil
}

func (b *quorumBuilder) addGroup(e entry) error {
	gid, err := keyID(e.key)
	if err != nil {
		return err
	}
	for _, part := range javaSplit(e.value, ":") {
		sid, err := parseLong(part, 10)
		if err != nil {
			return fmt.Errorf("server id: %w", err)
		}
		for g, members := range b.q.Groups {
			if slices.Contains(members, sid) {
				return fmt.Errorf("server %d is in group %d and group %d", sid, g, gid)
			}
		}
		b.q.Groups[gid] = append(b.q.Groups[gid], sid)
	}
	return nil
}

func (b *quorumBuilder) addWeight(e entry) error {
	sid, err := keyID(e.key)
	if err != nil {
		return err
	}
	w, err := parseLong(e.value, 10)
	b.q.Weights[sid] = w
	return err
}

// finishGroups applies QuorumHierarchical's rules: every participant is in
// a group, and weighs 1 unless a weight.N says otherwise.
func (b *quorumBuilder) finishGroups() error {
	if !b.q.Hierarchical() {
		return nil
	}
	for _, s := range b.q.Servers {
		if s.Observer {
			continue
		}
		if !b.inGroup(s.ID) {
			return &Error{File: b.file, Line: b.serverLine[s.ID], Key: fmt.Sprintf("server.%d", s.ID),
				Msg: "not in any group.N (a hierarchical quorum needs every participant in a group)"}
		}
		if _, ok := b.q.Weights[s.ID]; !ok {
			b.q.Weights[s.ID] = 1
		}
	}
	return nil
}

func (b *quorumBuilder) inGroup(id int64) bool {
	for _, members := range b.q.Groups {
		if slices.Contains(members, id) {
			return true
		}
	}
	return false
}
