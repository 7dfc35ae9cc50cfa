package ids

import (
	"regexp"
	"testing"
)

// TestUUID: each id is a version 4, variant 1 UUID in canonical form, and
// ids differ.
func TestUUID(t *testing.T) {
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := UUID()
		if !v4.MatchString(id) {
			t.Fatalf("UUID() = %q; want a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("UUID() gave %q twice", id)
		}
		seen[id] = true
	}
}
