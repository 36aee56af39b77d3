package rules

import (
	"regexp"
	"testing"
)

// TestValidID checks the hand-written rule-ID check against the pattern
// it stands for, ^[a-z0-9]+(\.[a-z0-9-]+)+$, on every registered ID and
// on malformed ones.
func TestValidID(t *testing.T) {
	pattern := regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9-]+)+$`)
	ids := []string{"", ".", "a", "a.", ".a", "a..b", "a.b", "a.b.c", "ssh.root-login", "a-b.c", "A.b", "a.B",
		"a.b_c", "0.1", "a.-", "a.b-", "ssh.root login", "a.b\n", "é.b", "a.é", "pkg.mongodb-sspl"}
	for _, r := range All() {
		ids = append(ids, r.ID)
	}
	for _, id := range ids {
		if got, want := validID(id), pattern.MatchString(id); got != want {
			t.Errorf("validID(%q) = %v, want %v", id, got, want)
		}
	}
}
