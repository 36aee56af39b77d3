package main

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestNoRootFilesystem: a disk whose only filesystem holds no os-release
// still gets the disk rules; every guest rule is an ERROR naming the
// reason (said once in text, one result per rule in JSON), and the exit
// code is 3.
func TestNoRootFilesystem(t *testing.T) {
	data := fixtures.MustExt4(t, fstest.MapFS{"srv/data.txt": fixtures.File("payload\n", 0o644)}, fixtures.Ext4Options{Size: 16 << 20})
	disk := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: data}}})
	out, stderr, code := runCmd(t, "scan", disk)
	if code != 3 {
		t.Errorf("exit %d, want 3; stderr %q", code, stderr)
	}
	if !strings.Contains(out, " guest rules not evaluated: no readable root filesystem") || strings.Contains(out, "[ERROR] accounts.password") ||
		!strings.Contains(out, "Root:    none: no Linux root filesystem found (partition 1: ext4, no os-release)") {
		t.Errorf("the missing root should be said once, with its reason:\n%s", out)
	}
	if verbose, _, _ := runCmd(t, "scan", "-v", disk); !strings.Contains(verbose, "[INFO] disk.layout") && !strings.Contains(verbose, "[ERROR] disk.layout") {
		t.Errorf("disk rules did not run:\n%s", verbose)
	}
	if strings.Contains(out, "internal error") {
		t.Errorf("a rule panicked on the missing guest:\n%s", out)
	}
	js, _, _ := runCmd(t, "scan", "--format", "json", disk)
	validateJSON(t, schema(t, "../../rules/report/schema/report.schema.json"), []byte(js))
	if !strings.Contains(js, `"root_error": "no Linux root filesystem found`) || !strings.Contains(js, `"verdict": "error"`) {
		t.Errorf("JSON lacks root_error or the error verdict")
	}
	if n := strings.Count(js, `"reason": "no readable root filesystem"`); n < 50 {
		t.Errorf("JSON has %d guest rule ERRORs, want one result per rule", n)
	}
}
