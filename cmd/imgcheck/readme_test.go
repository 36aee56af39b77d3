package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
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
	if code != 0 || !strings.Contains(table, "| [`os.supported`](docs/rules.md#ossupported) |") {
		t.Fatalf("rules --markdown: exit %d:\n%s", code, table)
	}
	if !strings.Contains(string(readme), table) {
		t.Error("README.md's rule table differs from `imgcheck rules --markdown`: paste its output into the README")
	}
}

// TestRuleReferenceIsCurrent keeps docs/rules.md equal to what `imgcheck
// rules --format reference` prints, and checks that no document in the
// repository points outside it (at a specification beside the checkout).
func TestRuleReferenceIsCurrent(t *testing.T) {
	ref, _, code := runCmd(t, "rules", "--format", "reference")
	if code != 0 || !strings.Contains(ref, "## `accounts.password`") || !strings.Contains(ref, "## `image.unreadable`") {
		t.Fatalf("rules --format reference: exit %d:\n%s", code, ref)
	}
	if *update {
		if err := os.WriteFile("../../docs/rules.md", []byte(ref), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != ref {
		t.Errorf("docs/rules.md differs from `imgcheck rules --format reference` (go test -update rewrites it): %s", firstDiff(string(doc), ref))
	}
}

// TestNothingPointsOutside: the specification lives beside the checkout, not
// in it, so no file of the repository may cite it by name or path.
func TestNothingPointsOutside(t *testing.T) {
	spec, outside := "RULES"+".md", filepath.Join("..", "shared")
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !textFile(d.Name()) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(spec)) || bytes.Contains(b, []byte(outside)) {
			t.Errorf("%s points at the specification outside the repository", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// textFile reports whether a file name is source or documentation.
func textFile(name string) bool {
	switch filepath.Ext(name) {
	case ".go", ".md", ".yaml", ".yml", ".json", ".sh", ".hcl", ".txt":
		return true
	}
	return name == "Makefile"
}
