package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/creack/pty"

	"github.com/imgcheck/imgcheck/fixtures"
)

func TestExitCodes(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	warnOnly := cleanTree()
	warnOnly["var/log/auth.log"] = leakyTree()["var/log/auth.log"]
	warn := gptImage(t, warnOnly)
	garbage := filepath.Join(t.TempDir(), "garbage.qcow2")
	if err := os.WriteFile(garbage, append([]byte("QFI\xfb\x00\x00\x00\x03"), bytes.Repeat([]byte{0xff}, 4096)...), 0o644); err != nil {
		t.Fatal(err)
	}
	waivers := filepath.Join(t.TempDir(), "waivers.yaml")
	os.WriteFile(waivers, []byte("waivers:\n  - rule: logs.uncleared\n    reason: auth.log is regenerated at boot\n    expires: 2999-01-01\n"), 0o644)
	expired := filepath.Join(t.TempDir(), "expired.yaml")
	os.WriteFile(expired, []byte("waivers:\n  - rule: logs.uncleared\n    reason: old\n    expires: 2001-01-01\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string // in stderr
	}{
		{"clean", []string{"scan", clean}, 0, ""},
		{"fail", []string{"scan", leaky}, 1, ""},
		{"warn alone", []string{"scan", warn}, 0, ""},
		{"fail-on warn", []string{"scan", "--fail-on", "warn", warn}, 1, ""},
		{"waived warn", []string{"scan", "--fail-on", "warn", "--waivers", waivers, warn}, 0, ""},
		{"expired waiver", []string{"scan", "--fail-on", "warn", "--waivers", expired, warn}, 1, "expired on 2001-01-01"},
		{"garbage image", []string{"scan", garbage}, 3, "imgcheck: " + garbage + ": qcow2"},
		{"missing image", []string{"scan", filepath.Join(t.TempDir(), "nope.raw")}, 3, "no such file or directory"},
		{"missing image for info", []string{"info", filepath.Join(t.TempDir(), "nope.raw")}, 3, "nope.raw: no such file or directory"},
		{"subcommand typo", []string{"do", "imag", "1"}, 2, `unknown command "imag" for "imgcheck do"; did you mean image?`},
		{"command typo", []string{"scna", clean}, 2, "did you mean scan?"},
		{"flag group", []string{"scan", "-q", "-v", clean}, 2, "none of the others can be"},
		{"unknown flag", []string{"scan", "--bogus", clean}, 2, "unknown flag"},
		{"bad format", []string{"scan", "--format", "yaml", clean}, 2, "--format"},
		{"two formats on stdout", []string{"scan", "--format", "json", "--format", "sarif", clean}, 2, "stdout"},
		{"bad profile", []string{"scan", "--profile", "strictest", clean}, 2, "--profile"},
		{"unknown rule", []string{"scan", "--disable-rule", "no.such-rule", clean}, 2, "unknown rule"},
		{"no image", []string{"scan"}, 2, "no image"},
		{"bad fail-on", []string{"scan", "--fail-on", "info", clean}, 2, "--fail-on"},
		{"bad min-disk", []string{"scan", "--min-disk", "lots", clean}, 2, "bad size"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"info args", []string{"info"}, 2, "expected 1 argument"},
		{"info garbage", []string{"info", garbage}, 3, garbage},
		{"cat missing path", []string{"cat", clean, "/etc/nope"}, 3, "not exist"},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d; stderr %q", tc.name, code, tc.code, stderr)
		}
		if tc.err != "" && !strings.Contains(stderr, tc.err) {
			t.Errorf("%s: stderr %q lacks %q", tc.name, stderr, tc.err)
		}
		if tc.code >= 2 && strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
			t.Errorf("%s: the reason must be one line (plus a usage hint): %q", tc.name, stderr)
		}
	}
}

// hangingImage is an image URL whose server never answers until release is
// called, like an image on a stalled network share. (A FIFO no longer
// stalls: image.Open refuses it at once.)
func hangingImage(t *testing.T) (url string, release func()) {
	t.Helper()
	unblock := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-unblock:
		case <-r.Context().Done():
		}
		http.Error(w, "released", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	release = func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	return srv.URL + "/stalled.raw", release
}

func TestBatch(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	garbage := filepath.Join(t.TempDir(), "garbage.img")
	os.WriteFile(garbage, []byte("KDMV not really a vmdk"), 0o644)
	stalled, _ := hangingImage(t)
	dir := t.TempDir()
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte("# images to audit\n"+leaky+"\n\n"+garbage+"\n"), 0o644)
	outDir := filepath.Join(dir, "reports")

	out, stderr, code := runCmd(t, "scan", "-j", "2", "--timeout", "5s", "--from", list, "--output-dir", outDir,
		"--format", "text", "--format", "junit="+filepath.Join(dir, "all.xml"), "--format", "json="+filepath.Join(dir, "all.json"),
		"--format", "sarif="+filepath.Join(dir, "all.sarif"), clean, stalled)
	if code != 1 {
		t.Errorf("exit %d, want 1 (a FAIL beats the ERROR rows)", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "IMAGE") {
		t.Fatalf("want the summary table:\n%s", out)
	}
	rows := map[string]string{}
	for _, l := range lines[1:5] {
		rows[strings.Fields(l)[0]] = l
	}
	for img, verdict := range map[string]string{clean: "PASS", leaky: "FAIL", garbage: "ERROR", stalled: "ERROR"} {
		if !strings.HasSuffix(rows[img], verdict) {
			t.Errorf("row of %s = %q, want verdict %s", img, rows[img], verdict)
		}
	}
	if !strings.Contains(rows[clean], "Ubuntu") || !strings.Contains(rows[clean], "22.04") {
		t.Errorf("clean row lacks OS and release: %q", rows[clean])
	}
	for _, want := range []string{stalled + ": timed out after 5s", garbage + ": vmdk"} {
		if !strings.Contains(out, want) || !strings.Contains(stderr, want) {
			t.Errorf("reason %q missing from the table or stderr:\nstdout:\n%s\nstderr:\n%s", want, out, stderr)
		}
	}
	if strings.Contains(stderr, "scanning") {
		t.Errorf("progress bar written to a pipe: %q", stderr)
	}
	js, _ := os.ReadFile(filepath.Join(dir, "all.json"))
	validateJSON(t, schema(t, "../../rules/report/schema/report.schema.json"), js)
	sarif, _ := os.ReadFile(filepath.Join(dir, "all.sarif"))
	validateJSON(t, schema(t, "../../rules/report/testdata/sarif-schema-2.1.0.json"), sarif)
	if !strings.Contains(string(sarif), `"ruleId": "image.unreadable"`) {
		t.Errorf("SARIF has no result for the unreadable images")
	}
	files, _ := os.ReadDir(outDir)
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	if len(names) != 17 { // 4 images x (text, junit, json, sarif), and batch.txt
		t.Errorf("--output-dir holds %v, want a report per image and format and the batch text", names)
	}
	one, _ := os.ReadFile(filepath.Join(outDir, filepath.Base(leaky)+".txt"))
	if !strings.Contains(string(one), "[FAIL] ssh.private-keys") || strings.Contains(string(one), filepath.Base(clean)) {
		t.Errorf("per-image text report of %s:\n%s", leaky, one)
	}
	if batch, _ := os.ReadFile(filepath.Join(outDir, "batch.txt")); !strings.HasPrefix(string(batch), "IMAGE") || !strings.Contains(string(batch), "ssh.private-keys") {
		t.Errorf("batch.txt is not the summary table and rule summary:\n%s", batch)
	}
}

// TestOutputDirFormats: with --output-dir, every requested format goes to
// a file per image plus a batch file, several at once, and stdout gets
// the summary table only (issue #15).
func TestOutputDirFormats(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	dir := t.TempDir()
	out, stderr, code := runCmd(t, "scan", "--output-dir", dir, "--format", "sarif", "--format", "junit", "--format", "json", "--format", "jsonl", clean, leaky)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "IMAGE") || strings.Contains(out, "{") || strings.Contains(out, "<") {
		t.Errorf("stdout is not the summary table:\n%s", out)
	}
	if !strings.Contains(out, "Images per rule (of 2):") || !strings.Contains(out, "ssh.private-keys") {
		t.Errorf("stdout lacks the cross-image rule summary:\n%s", out)
	}
	var names []string
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		names = append(names, f.Name())
	}
	want := []string{"batch.json", "batch.sarif"}
	for _, img := range []string{clean, leaky} {
		for _, ext := range []string{".json", ".jsonl", ".sarif", ".xml"} {
			want = append(want, filepath.Base(img)+ext)
		}
	}
	want = append(want, "junit.xml")
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("--output-dir holds %v, want %v", names, want)
	}
	js, _ := os.ReadFile(filepath.Join(dir, "batch.json"))
	validateJSON(t, schema(t, "../../rules/report/schema/report.schema.json"), js)
	line, _ := os.ReadFile(filepath.Join(dir, filepath.Base(leaky)+".jsonl"))
	validateJSON(t, lineSchema(t), line)
	if !strings.Contains(string(line), `"source":{"size":`) {
		t.Errorf("the JSONL line does not record its source: %.200s", line)
	}
}

// onPTY runs the command with stdout or stderr on a real pty and returns
// what reached the terminal, the other stream and the exit code.
func onPTY(t *testing.T, stderrOnTTY bool, args ...string) (term, other string, code int) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pty: %v", err)
	}
	defer ptmx.Close()
	var seen bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&seen, ptmx)
		close(done)
	}()
	var buf bytes.Buffer
	if stderrOnTTY {
		code = run(args, &buf, tty)
	} else {
		code = run(args, tty, &buf)
	}
	tty.Close()
	<-done
	return seen.String(), buf.String(), code
}

// TestProgressBar runs a batch with stderr on a real pty: the bar is drawn
// there, and never when stderr is a pipe (TestBatch).
func TestProgressBar(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	term, stdout, code := onPTY(t, true, "scan", clean, leaky)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(term, "scanning") || !strings.Contains(term, "/2)") {
		t.Errorf("no progress bar on the terminal: %q", term)
	}
	if strings.Contains(stdout, "scanning") {
		t.Errorf("progress bar on stdout")
	}
	if term, _, _ := onPTY(t, true, "scan", leaky); strings.Contains(term, "scanning") {
		t.Errorf("progress bar for a single image: %q", term)
	}
	// A compressed upload shows its expansion instead.
	gz := fixtures.MustGzip(t, leaky, "gzip")
	if term, _, _ := onPTY(t, true, "scan", gz); !strings.Contains(term, "expanding") {
		t.Errorf("no expansion bar for a gzip upload: %q", term)
	}
	if _, stderr, _ := runCmd(t, "scan", gz); strings.Contains(stderr, "expanding") {
		t.Errorf("expansion bar in a pipe: %q", stderr)
	}
}

// TestColor: colour only on a terminal and never with NO_COLOR set or
// TERM=dumb; --color always and never override.
func TestColor(t *testing.T) {
	leaky := gptImage(t, leakyTree())
	const red = "\x1b[1;31m[FAIL]"
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if term, _, _ := onPTY(t, false, "scan", leaky); strings.Contains(term, "\x1b[") {
		t.Errorf("colour despite TERM=dumb:\n%s", term)
	}
	t.Setenv("TERM", "xterm")
	if term, _, _ := onPTY(t, false, "scan", leaky); !strings.Contains(term, red) {
		t.Errorf("no colour on a terminal:\n%s", term)
	}
	if out, _, _ := runCmd(t, "scan", leaky); strings.Contains(out, "\x1b[") {
		t.Errorf("colour in a pipe")
	}
	if out, _, _ := runCmd(t, "scan", "--color", "always", leaky); !strings.Contains(out, red) {
		t.Errorf("--color always gave no colour")
	}
	if term, _, _ := onPTY(t, false, "scan", "--color", "never", leaky); strings.Contains(term, "\x1b[") {
		t.Errorf("--color never coloured a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if term, _, _ := onPTY(t, false, "scan", leaky); strings.Contains(term, "\x1b[") {
		t.Errorf("colour despite NO_COLOR:\n%s", term)
	}
}
