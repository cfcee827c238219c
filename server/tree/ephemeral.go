package tree

// Ephemeral owner markers (EphemeralType): a container's owner is
// Long.MIN_VALUE; a TTL node's owner is 0xFF in the top byte, 0x0000 in the
// next two, and the TTL in ms below (only when extended types are enabled).
const (
	ContainerOwner int64 = -1 << 63
	extendedMask   int64 = -72057594037927936 // 0xff00000000000000
	extendedBits   int64 = 0x00ffff0000000000
	ttlBitTTL      int64 = 0
	// MaxTTL is the largest TTL a node may have (EphemeralType.TTL.maxValue).
	MaxTTL int64 = 0x000000ffffffffff
)

// OwnerKind is what an ephemeralOwner value says about a znode.
type OwnerKind int

// Kinds of ephemeralOwner values.
const (
	OwnerNone      OwnerKind = iota // persistent
	OwnerSession                    // ephemeral, owned by a session
	OwnerContainer                  // container
	OwnerTTL                        // persistent with a TTL
)

// KindOf classifies an ephemeralOwner as EphemeralType.get does: the
// container marker, a TTL (only with extended types enabled), none, or a
// session. A negative owner that is not a TTL is a session whose server id
// is 128 or more; ZooKeeper treats those as persistent when extended types
// are off (and cannot tell them from TTLs when on), zkit as sessions.
func KindOf(owner int64, extended bool) OwnerKind {
	switch {
	case owner == ContainerOwner:
		return OwnerContainer
	case owner == 0:
		return OwnerNone
	case owner < 0 && extended && owner&extendedMask == extendedMask && (owner&extendedBits)>>40 == ttlBitTTL:
		return OwnerTTL
	}
	return OwnerSession
}

// TTLOwner encodes a TTL as an ephemeralOwner.
func TTLOwner(ttl int64) int64 { return extendedMask | ttl }

// TTLOf returns the TTL in ms encoded in a TTL node's ephemeralOwner.
func TTLOf(owner int64) int64 { return owner & MaxTTL }
