package spool

import (
	"testing"
)

// FuzzScan: whatever a segment holds, scan returns only records that
// check, in order, within the bytes, and never fails; records written
// whole come out whole.
func FuzzScan(f *testing.F) {
	var seg []byte
	for i := 0; i < 3; i++ {
		seg = appendFrame(seg, payload(i), uint32(i))
	}
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	f.Add(append([]byte("LPS1LPS1\xff\xff\xff\xff"), seg...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, damaged := scan(data)
		end := int64(0)
		for _, r := range recs {
			if r.off < end {
				t.Fatalf("record at %d overlaps the one before (ends %d)", r.off, end)
			}
			n, c, ok := checkFrame(data, int(r.off))
			if !ok || n != int(r.size) || int32(c) != r.count {
				t.Fatalf("record at %d does not check", r.off)
			}
			end = r.off + int64(r.size)
		}
		if len(data) > 0 && len(recs) == 0 && damaged == 0 {
			t.Fatal("bytes neither records nor damage")
		}
		// The same records, written again, scan the same, with no damage.
		var again []byte
		for _, r := range recs {
			again = append(again, data[r.off:r.off+int64(r.size)]...)
		}
		recs2, damaged2 := scan(again)
		if len(recs2) != len(recs) || damaged2 != 0 {
			t.Fatalf("rewritten: %d records, %d damaged; want %d, 0", len(recs2), damaged2, len(recs))
		}
	})
}
