package main

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// lineSchema compiles the schema of one JSONL line ($defs/line).
func lineSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	return schemaAt(t, "../../rules/report/schema/report.schema.json", "#/$defs/line")
}

// TestJSONLStreams: `--format jsonl` writes each image's line as soon as
// its scan ends: the line of a quick image is on stdout while another
// image of the batch still hangs. Every line validates and carries its
// index in the list.
func TestJSONLStreams(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	stalled, release := hangingImage(t)
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"scan", "-j", "3", "--format", "jsonl", stalled, clean, leaky}, pw, &stderr)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 64<<20)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 2 {
		t.Fatalf("fewer than two lines before the stalled image ended: %q", lines)
	}
	release() // only now can the stalled image end
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if code := <-done; code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", code, stderr.String())
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	s := lineSchema(t)
	paths := map[int]string{}
	for i, l := range lines {
		validateJSON(t, s, []byte(l))
		var head struct {
			Index   int    `json:"index"`
			Path    string `json:"path"`
			Verdict string `json:"verdict"`
		}
		json.Unmarshal([]byte(l), &head)
		paths[head.Index] = head.Path
		if i < 2 && head.Path == stalled {
			t.Errorf("line %d is the stalled image, which could not have ended yet", i)
		}
	}
	want := map[int]string{0: stalled, 1: clean, 2: leaky}
	for i, p := range want {
		if paths[i] != p {
			t.Errorf("index %d is %q, want %q", i, paths[i], p)
		}
	}
	if !strings.Contains(stderr.String(), "imgcheck: "+stalled+": ") {
		t.Errorf("stderr does not name the stalled image: %s", stderr.String())
	}
}
