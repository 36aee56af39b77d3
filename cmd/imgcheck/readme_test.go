package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsEveryRule keeps the README's rule table equal to what
// `imgcheck rules --markdown` prints from the registry.
func TestReadmeListsEveryRule(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	table, _, code := runCmd(t, "rules", "--markdown")
	if code != 0 || !strings.Contains(table, "| `os.supported` |") {
		t.Fatalf("rules --markdown: exit %d:\n%s", code, table)
	}
	if !strings.Contains(string(readme), table) {
		t.Error("README.md's rule table differs from `imgcheck rules --markdown`: paste its output into the README")
	}
}
