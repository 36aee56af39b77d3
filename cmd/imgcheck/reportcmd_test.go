package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/rules/report"
)

// TestReportVerbs: a JSONL batch becomes an HTML page, a Markdown
// summary and a waivers baseline; the baseline, read back by
// report.ParseWaivers as --waivers does, waives every WARN and FAIL of
// the batch, so the same scan then passes.
func TestReportVerbs(t *testing.T) {
	clean, leaky := gptImage(t, cleanTree()), gptImage(t, leakyTree())
	dir := t.TempDir()
	results := filepath.Join(dir, "results.jsonl")
	if _, stderr, code := runCmd(t, "scan", "--format", "jsonl="+results, clean, leaky); code != 1 {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	page := filepath.Join(dir, "audit.html")
	if _, stderr, code := runCmd(t, "report", "html", results, "-o", page); code != 0 {
		t.Fatalf("report html: exit %d: %s", code, stderr)
	}
	html, _ := os.ReadFile(page)
	if strings.Count(string(html), "<tr data-verdict=") != 2 || !strings.Contains(string(html), "ssh.private-keys") {
		t.Errorf("page lacks its rows or findings")
	}
	md, stderr, code := runCmd(t, "report", "markdown", results)
	if code != 0 || !strings.Contains(md, "### imgcheck: FAIL") {
		t.Errorf("report markdown: exit %d: %s\n%s", code, stderr, md)
	}
	baseline, stderr, code := runCmd(t, "waivers", "init", "--expires", "2999-01-01", results)
	if code != 0 {
		t.Fatalf("waivers init: exit %d: %s", code, stderr)
	}
	ws, err := report.ParseWaivers(strings.NewReader(baseline))
	if err != nil || len(ws) == 0 {
		t.Fatalf("the baseline does not parse (%v):\n%s", err, baseline)
	}
	file := filepath.Join(dir, "waivers.yaml")
	os.WriteFile(file, []byte(baseline), 0o644)
	if out, stderr, code := runCmd(t, "scan", "--fail-on", "warn", "--waivers", file, clean, leaky); code != 0 {
		t.Errorf("scan with the baseline: exit %d, want 0 (every WARN/FAIL waived): %s\n%s", code, stderr, out)
	}
	if _, stderr, code := runCmd(t, "waivers", "init", "--expires", "2001-01-01", results); code != 2 || !strings.Contains(stderr, "future") {
		t.Errorf("a past expiry: exit %d: %s", code, stderr)
	}
}
