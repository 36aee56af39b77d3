package rules

import (
	"fmt"
	"testing"
)

func TestCapFindingsKeepsTheVerdict(t *testing.T) {
	var found []Finding
	for i := range 2500 {
		found = append(found, Finding{Rule: "clean.tmp-contents", Level: Warn, Subject: fmt.Sprintf("/tmp/f%d", i)})
	}
	found[2000].Level = Error
	got := capFindings("clean.tmp-contents", found)
	if len(got) != MaxFindingsPerRule {
		t.Fatalf("%d findings, want %d", len(got), MaxFindingsPerRule)
	}
	last := got[len(got)-1]
	if last.Level != Error || last.Get(KeyCount) != "1501" || last.Rule != "clean.tmp-contents" {
		t.Errorf("summary finding = %+v", last)
	}
	if got[0].Subject != "/tmp/f0" || got[len(got)-2].Subject != "/tmp/f998" {
		t.Errorf("kept the wrong findings: %q .. %q", got[0].Subject, got[len(got)-2].Subject)
	}
	if n := len(capFindings("x", found[:MaxFindingsPerRule])); n != MaxFindingsPerRule {
		t.Errorf("a list at the cap was changed: %d", n)
	}
}
