// Package ids makes the random ids the proxy hands out: call ids, session
// ids. They name things; they guard nothing, so the runtime's fast
// generator serves (crypto/rand would cost a system call a request).
package ids

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
)

// UUID is a random (version 4) UUID in its canonical form, as LiteLLM's
// call ids are.
func UUID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
