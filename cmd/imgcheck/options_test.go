package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRuleInputs: --min-disk, --plans, --plan-unit, --strict and
// --disable-rule reach the rules.
func TestRuleInputs(t *testing.T) {
	clean := gptImage(t, cleanTree())
	plans := filepath.Join(t.TempDir(), "plans.txt")
	os.WriteFile(plans, []byte("s-tiny 1\ns-big 50\n"), 0o644)

	out, _, code := runCmd(t, "scan", "-v", "--min-disk", "32MiB", "--plans", plans, clean)
	if code != 0 {
		t.Errorf("exit %d: a WARN alone passes", code)
	}
	if !strings.Contains(out, "[WARN] disk.min-size") {
		t.Errorf("--min-disk 32MiB: a 66 MiB disk should WARN:\n%s", out)
	}
	if !strings.Contains(out, "s-big") || !strings.Contains(out, plans) {
		t.Errorf("--plans: plans or their source missing:\n%s", out)
	}

	out, _, code = runCmd(t, "scan", "--strict", clean)
	if code != 3 || !strings.Contains(out, "[ERROR] pkg.security-updates") {
		t.Errorf("--strict: exit %d, want 3 with the not-evaluable SKIP as ERROR:\n%s", code, out)
	}
	out, _, code = runCmd(t, "scan", "--strict", "--disable-rule", "pkg.security-updates", clean)
	if strings.Contains(out, "pkg.security-updates") {
		t.Errorf("--disable-rule: rule still ran")
	}
	if code != 0 {
		t.Errorf("--strict without the rule: exit %d, want 0:\n%s", code, out)
	}
}

// TestSingleImageTimeout: one stalled image is an ERROR with its reason on
// one stderr line, exit 3.
func TestSingleImageTimeout(t *testing.T) {
	stalled, _ := hangingImage(t)
	out, stderr, code := runCmd(t, "scan", "--timeout", "1s", "--format", "json", stalled)
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	if stderr != "imgcheck: "+stalled+": timed out after 1s\n" {
		t.Errorf("stderr = %q", stderr)
	}
	if !strings.Contains(out, `"error": "timed out after 1s"`) {
		t.Errorf("JSON lacks the reason:\n%s", out)
	}
}
