package main

import (
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck"
)

// TestEveryVerbHasABudget: info, ls, cat and diff, like scan, give up on
// a stalled image at --timeout with one line naming it and exit 3; the
// budget is on by default.
func TestEveryVerbHasABudget(t *testing.T) {
	stalled, _ := hangingImage(t)
	clean := gptImage(t, cleanTree())
	for _, args := range [][]string{
		{"info", stalled}, {"info", "--json", stalled}, {"ls", "-R", stalled, "/"}, {"cat", stalled, "/etc/passwd"},
		{"diff", clean, stalled}, {"diff", stalled, clean}, {"scan", stalled},
	} {
		_, stderr, code := runCmd(t, append([]string{"--timeout", "1s"}, args...)...)
		if code != 3 || stderr != "imgcheck: "+stalled+": timed out after 1s\n" {
			t.Errorf("imgcheck %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
		}
	}
	for _, verb := range []string{"scan", "info", "ls", "cat", "diff"} {
		out, _, _ := runCmd(t, verb, "--help")
		if !strings.Contains(out, "--timeout DURATION") || !strings.Contains(out, "(default "+imgcheck.DefaultTimeout.String()+")") {
			t.Errorf("%s --help does not show the default budget:\n%s", verb, out)
		}
	}
}

// TestRemoteDeadlines: one attempt of one request and the number of
// retries are configurable, and both stay under the image's budget: a
// server that never answers ends the scan after the attempts it allows,
// not after minutes.
func TestRemoteDeadlines(t *testing.T) {
	stalled, _ := hangingImage(t)
	// Within a 30 s budget, two attempts of 200 ms end in the request's
	// own error, not in the budget's.
	_, stderr, code := runCmd(t, "scan", "--timeout", "30s", "--remote-timeout", "200ms", "--remote-retries", "1", stalled)
	if code != 3 || !strings.Contains(stderr, "no answer within 200ms") || strings.Contains(stderr, "timed out after 30s") {
		t.Errorf("two attempts of 200ms: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runCmd(t, "scan", "--timeout", "1s", "--remote-timeout", "1h", stalled)
	if code != 3 || stderr != "imgcheck: "+stalled+": timed out after 1s\n" {
		t.Errorf("a request timeout longer than the budget: exit %d, stderr %q", code, stderr)
	}
}
