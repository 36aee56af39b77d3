package imgcheck

import (
	"fmt"
	"testing"

	"github.com/imgcheck/imgcheck/rules"
)

// TestFold: past the cap, findings fold into one line per level that
// keeps its weight in the script's counters.
func TestFold(t *testing.T) {
	var found []rules.Finding
	for i := range 3000 {
		lv := rules.Warn
		if i%3 == 0 {
			lv = rules.Pass
		}
		found = append(found, rules.Finding{Rule: "logs.uncleared", Level: lv, Subject: fmt.Sprint(i)})
	}
	pass0, warn0, fail0, status0 := Counts([]rules.Result{{Findings: found}})
	folded := fold("logs.uncleared", found)
	if len(folded) > rules.MaxFindingsPerRule+1 {
		t.Errorf("%d findings kept", len(folded))
	}
	pass, warn, fail, status := Counts([]rules.Result{{Findings: folded}})
	if pass != pass0 || warn != warn0 || fail != fail0 || status != status0 || pass != 1000 || warn != 2000 {
		t.Errorf("counters %d/%d/%d/%d, want %d/%d/%d/%d", pass, warn, fail, status, pass0, warn0, fail0, status0)
	}
}
