package rules_test

import (
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// TestReferenceCoversEveryRule: every registered rule has a reference
// entry with its why, levels and fix, every entry names a registered rule
// (or a pseudo-rule of the reports), and fixes name commands, not the
// specification's step codes.
func TestReferenceCoversEveryRule(t *testing.T) {
	docs, err := rules.Docs()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range report.PseudoRules() {
		known[r.ID] = true
	}
	for _, r := range rules.All() {
		known[r.ID] = true
		d, ok := docs[r.ID]
		if !ok {
			t.Errorf("rule %s has no entry in reference.yaml", r.ID)
			continue
		}
		if d.Why == "" || d.Fix == "" || d.ImgCheck == "" || len(d.Levels) == 0 {
			t.Errorf("%s: incomplete entry %+v", r.ID, d)
		}
	}
	for id, d := range docs {
		if !known[id] {
			t.Errorf("reference.yaml has %s, which is not a rule", id)
		}
		for _, l := range d.Levels {
			switch l.Level {
			case "PASS", "INFO", "SKIP", "WARN", "FAIL", "ERROR":
			default:
				t.Errorf("%s: unknown level %q", id, l.Level)
			}
		}
		for _, code := range []string{"C1:", "C2:", "C3:", "C4:", "C5:", "C6:", "C7:", "C8:", "C9:", "X1:", "X2:", "X6:", "X7:", "X8:", "RULES" + ".md", "§"} {
			if strings.Contains(d.Fix+d.Why, code) {
				t.Errorf("%s: the reference points at the specification (%q) instead of saying what to do", id, code)
			}
		}
	}
}
