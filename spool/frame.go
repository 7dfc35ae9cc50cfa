package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// A record on disk is a frame: a 16-byte header, then the payload.
//
//	magic   [4]byte  "LPS1"
//	length  uint32   of the payload, little-endian
//	count   uint32   the caller's count of what the payload holds (spans)
//	crc     uint32   CRC32C (Castagnoli) of length, count and payload
//
// The magic is where reading resumes after a damaged stretch: the next
// offset holding it whose frame checks is the next record.
const (
	magic      = "LPS1"
	headerSize = 16
	// maxPayload bounds a length read from disk: a damaged length must
	// not make the reader allocate gigabytes.
	maxPayload = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends payload's frame to dst.
func appendFrame(dst, payload []byte, count uint32) []byte {
	var h [headerSize]byte
	copy(h[:4], magic)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[8:], count)
	crc := crc32.Update(crc32.Checksum(h[4:12], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(h[12:], crc)
	return append(append(dst, h[:]...), payload...)
}

// checkFrame reports whether a whole, undamaged frame starts at data[off:],
// and its size and count.
func checkFrame(data []byte, off int) (size int, count uint32, ok bool) {
	if off < 0 || len(data)-off < headerSize || string(data[off:off+4]) != magic {
		return 0, 0, false
	}
	h := data[off : off+headerSize]
	n := binary.LittleEndian.Uint32(h[4:])
	if n > maxPayload || int(n) > len(data)-off-headerSize {
		return 0, 0, false // truncated: the write was cut short
	}
	payload := data[off+headerSize : off+headerSize+int(n)]
	crc := crc32.Update(crc32.Checksum(h[4:12], castagnoli), castagnoli, payload)
	if crc != binary.LittleEndian.Uint32(h[12:]) {
		return 0, 0, false
	}
	return headerSize + int(n), binary.LittleEndian.Uint32(h[8:]), true
}

// record is where a frame is in its segment.
type record struct {
	off   int64
	size  int32 // the whole frame
	count int32
}

// scan reads a segment's contents: its undamaged records in order, and the
// number of damaged stretches skipped (a stretch ends at the next offset
// where a frame checks). It never fails: whatever the bytes, it returns
// what can be trusted.
func scan(data []byte) (recs []record, damaged int) {
	for off := 0; off < len(data); {
		if n, c, ok := checkFrame(data, off); ok {
			recs = append(recs, record{off: int64(off), size: int32(n), count: int32(c)})
			off += n
			continue
		}
		damaged++
		off = resync(data, off+1)
	}
	return recs, damaged
}

// resync is the first offset from from on where a frame checks, or
// len(data).
func resync(data []byte, from int) int {
	for from < len(data) {
		i := bytes.Index(data[from:], []byte(magic))
		if i < 0 {
			return len(data)
		}
		if _, _, ok := checkFrame(data, from+i); ok {
			return from + i
		}
		from += i + 1
	}
	return len(data)
}
