package storage

import (
	"encoding/binary"
	"hash/crc32"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func crcUpdate(c uint32, b []byte) uint32 { return crc32.Update(c, castagnoli, b) }

var be = binary.BigEndian

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if be.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
