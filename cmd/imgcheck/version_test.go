package main

import (
	"strings"
	"testing"
)

// TestVersionFlag: --version prints the same line as the version verb,
// with the revision, and an unstamped test binary reports "devel" (the
// golden reports depend on it).
func TestVersionFlag(t *testing.T) {
	flag, _, code := runCmd(t, "--version")
	verb, _, _ := runCmd(t, "version")
	if code != 0 || flag != verb {
		t.Errorf("--version = %d %q; version verb = %q", code, flag, verb)
	}
	if !strings.HasPrefix(flag, "imgcheck devel (revision ") {
		t.Errorf("--version of a test binary = %q; want devel and a revision field", flag)
	}
}
