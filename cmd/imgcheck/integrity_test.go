package main

import (
	"os"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestScanCutImageSaysSoFirst: an image cut in half is reported as cut
// before anything else, in text (the first FAIL) and in JSON.
func TestScanCutImageSaysSoFirst(t *testing.T) {
	full := gptImage(t, cleanTree())
	st, err := os.Stat(full)
	if err != nil {
		t.Fatal(err)
	}
	cut := fixtures.MustHostile(t)(fixtures.Truncated(full, st.Size()/2))
	out, _, code := runCmd(t, "scan", cut)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	i := strings.Index(out, "[FAIL] ")
	if i < 0 || !strings.HasPrefix(out[i:], "[FAIL] disk.integrity: partition 1 ends at byte") {
		t.Errorf("the first FAIL is not disk.integrity's:\n%s", out)
	}
	js, _, _ := runCmd(t, "scan", "--format", "json", cut)
	if !strings.Contains(js, `"structure": "backup GPT header"`) || !strings.Contains(js, `"within": "virtual disk"`) {
		t.Errorf("JSON lacks disk.integrity's evidence:\n%s", js)
	}
}
