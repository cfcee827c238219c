package storage

import (
	"fmt"
	"strings"
	"time"

	"zkit/server/proto"
)

// Describe renders a txn on one line, as Apache's LogFormatter does: time,
// session, cxid, zxid, type, then what the txn does.
func Describe(t *proto.Txn) string {
	h := &t.Header
	return fmt.Sprintf("%s session 0x%x cxid 0x%x zxid 0x%x %s %s",
		time.UnixMilli(h.Time).UTC().Format("2006-01-02T15:04:05.000Z"),
		uint64(h.ClientID), uint32(h.Cxid), uint64(h.Zxid), h.Type, describeBody(h.Type, t.Body))
}

func describeBody(typ proto.Op, body proto.Record) string {
	switch b := body.(type) {
	case *proto.CreateTxn:
		var flags []string
		if b.Ephemeral {
			flags = append(flags, "ephemeral")
		}
		if b.Form == proto.OpCreateTTL {
			flags = append(flags, fmt.Sprintf("ttl=%d", b.TTL))
		}
		return fmt.Sprintf("%s data=%s acl=%s parentCVersion=%d%s", b.Path, quoteData(b.Data), describeACL(b.ACL), b.ParentCVersion, joinFlags(flags))
	case *proto.SetDataRequest:
		return fmt.Sprintf("%s data=%s version=%d", b.Path, quoteData(b.Data), b.Version)
	case *proto.SetACLRequest:
		return fmt.Sprintf("%s acl=%s version=%d", b.Path, describeACL(b.ACL), b.Version)
	case *proto.PathRecord:
		return b.Path
	case *proto.PathVersionRecord:
		return fmt.Sprintf("%s version=%d", b.Path, b.Version)
	case *proto.IntRecord:
		if typ == proto.OpError {
			return proto.Err(b.Value).Error()
		}
		return fmt.Sprintf("timeout=%d", b.Value)
	case *proto.StringsRecord:
		return fmt.Sprintf("ephemerals=%v", b.Strings)
	case *proto.MultiTxn:
		parts := make([]string, len(b.Txns))
		for i, s := range b.Txns {
			parts[i] = s.Type.String() + " " + describeBody(s.Type, s.Body)
		}
		return "[" + strings.Join(parts, "; ") + "]"
	case nil:
		return ""
	}
	return fmt.Sprintf("%+v", body)
}

func quoteData(b []byte) string {
	const max = 32
	if len(b) > max {
		return fmt.Sprintf("%q...(%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func describeACL(acl []proto.ACL) string {
	parts := make([]string, len(acl))
	for i, a := range acl {
		parts[i] = fmt.Sprintf("%s:%s:%d", a.ID.Scheme, a.ID.ID, a.Perms)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func joinFlags(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return " " + strings.Join(f, " ")
}
