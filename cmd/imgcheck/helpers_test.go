package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// runCmd runs the root command in process and returns its output and
// exit code.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// volatile matches the parts of an output that depend on the host: the
// blocks a raw file occupies, free space as mkfs left it, GPT GUIDs, the
// date.
var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`allocated \d+ bytes \([^)]*\)`), "allocated <n> bytes"},
	{regexp.MustCompile(`"allocated_size": \d+`), `"allocated_size": 0`},
	{regexp.MustCompile(`allocated="\d+ bytes \([^)]*\)"`), `allocated="<n> bytes"`},
	{regexp.MustCompile(`("allocated": ")\d+ bytes \([^)]*\)"`), `${1}<n> bytes"`},
	// Free and used bytes depend on the e2fsprogs version that made the fixture.
	{regexp.MustCompile(`(fs_used|fs_free)="\d+ bytes \([^)]*\)"`), `${1}="<n> bytes"`},
	{regexp.MustCompile(`("(?:fs_used|fs_free)": ")\d+ bytes \([^)]*\)"`), `${1}<n> bytes"`},
	{regexp.MustCompile(`"free": \d+`), `"free": 0`},
	{regexp.MustCompile(`Allocated:( +)\d+ bytes \([^)]*\)`), "Allocated:${1}<n> bytes"},
	// GPT GUIDs are derived from the fixture builder's cache key.
	{regexp.MustCompile(`[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}`), "<GUID>"},
	{regexp.MustCompile(`"sha256": "[0-9a-f]{64}"`), `"sha256": "<sha256>"`},
	{regexp.MustCompile(`Executed on: .*`), "Executed on: <date>"},
	{regexp.MustCompile(`"generated_at": "[^"]*"`), `"generated_at": "<date>"`},
}

// normalize replaces the image paths (which live in the fixtures cache)
// with stable names and masks host-dependent values.
func normalize(s string, paths map[string]string) string {
	for p, name := range paths {
		s = strings.ReplaceAll(s, p, name)
	}
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.repl)
	}
	return s
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it): %s", name, firstDiff(got, string(want)))
	}
}

// firstDiff names the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  got:  %q\n  want: %q", i+1, gl, wl)
		}
	}
	return "same lines, different bytes"
}
