package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// parseScan runs `scan` with args and captures the parsed options.
func parseScan(t *testing.T, args ...string) *scanOptions {
	t.Helper()
	var got *scanOptions
	g := &globalOptions{stdout: io.Discard, stderr: io.Discard}
	cmd := newScanCmd(g, func(_ context.Context, o *scanOptions) error { got = o; return nil })
	cmd.Flags().DurationVar(&g.timeout, "timeout", 0, "") // a global flag, on the root command
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return got
}

func TestScanFlags(t *testing.T) {
	o := parseScan(t, "-j", "3", "--profile", "marketplace", "--format", "json=out.json", "--format", "junit",
		"--fail-on", "warn", "--timeout", "2m", "--enable-rule", "pkg.mongodb-sspl", "--min-disk", "10GiB",
		"--plan-unit", "gb", "--strict", "a.qcow2", "b.raw")
	if o.jobs != 3 || o.profile != "marketplace" || o.failOn != "warn" || o.timeout != 2*time.Minute || !o.strict ||
		len(o.images) != 2 || len(o.formats) != 2 || o.enable[0] != "pkg.mongodb-sspl" {
		t.Errorf("parsed %+v", o)
	}
	p, err := o.prepare(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.failOn != rules.Warn || p.profile != rules.Marketplace || p.ruleOpts.MinDisk != 10<<30 || p.ruleOpts.PlanUnit != "gb" ||
		len(p.outputs) != 2 || p.outputs[0] != (output{"json", "out.json"}) || p.outputs[1] != (output{format: "junit"}) {
		t.Errorf("plan %+v", p)
	}
	var mongo bool
	for _, r := range p.rules {
		mongo = mongo || r.ID == "pkg.mongodb-sspl"
	}
	if !mongo {
		t.Errorf("--enable-rule did not select the opt-in rule")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"25GiB": 25 << 30, "26GB": 26e9, "1.5G": 3 << 29, "4096": 4096, "10 gib": 10 << 30} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1G", "lots", "1XB", "0", "1e30TB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestParsePlans(t *testing.T) {
	for name, in := range map[string]string{
		"api":   `{"sizes":[{"slug":"s-1vcpu-1gb","disk":25,"price_monthly":6},{"slug":"s-2vcpu-4gb","disk":80}]}`,
		"array": `[{"slug":"s-1vcpu-1gb","disk":25},{"slug":"s-2vcpu-4gb","disk":80}]`,
		"text":  "# plans\ns-1vcpu-1gb 25\ns-2vcpu-4gb 80GB\n",
	} {
		ps, err := parsePlans([]byte(in))
		if err != nil || len(ps) != 2 || ps[1].Slug != "s-2vcpu-4gb" || ps[1].DiskGB != 80 {
			t.Errorf("%s: %+v %v", name, ps, err)
		}
	}
	for _, bad := range []string{"{}", "s-1 x", `[{"slug":"","disk":1}]`} {
		if _, err := parsePlans([]byte(bad)); err == nil {
			t.Errorf("parsePlans(%q) accepted", bad)
		}
	}
}

// TestPanicIsAnErrorRow: a scan that panics becomes that image's ERROR
// row with the panic value as its reason, and the batch goes on.
func TestPanicIsAnErrorRow(t *testing.T) {
	var stdout, stderr bytes.Buffer
	o := &scanOptions{globalOptions: &globalOptions{stdout: &stdout, stderr: &stderr}, jobs: 2}
	p := &scanPlan{targets: []string{"ok.raw", "boom.raw"}, profile: rules.Marketplace,
		scan: func(_ context.Context, path string) *report.Image {
			if path == "boom.raw" {
				var m map[string]int
				m["x"]++ // a nil-map write, as a buggy reader might do
			}
			return &report.Image{Path: path}
		}}
	reps := make([]report.Image, 2)
	scanAll(context.Background(), o, p, func(pos int, l report.Line) { reps[pos] = *l.Image })
	if reps[0].Err != nil || reps[1].Err == nil || !strings.Contains(reps[1].Err.Error(), "internal error: assignment to entry in nil map") {
		t.Errorf("reports: %+v / %v", reps[0], reps[1].Err)
	}
	if code := report.ExitCode(reps, rules.Fail); code != report.ExitError {
		t.Errorf("exit %d, want 3", code)
	}
}

func TestOutputNames(t *testing.T) {
	got := outputNames([]string{"a/disk.qcow2", "b/disk.qcow2", "../x y.raw", "/", "s3://b/k/batch?x=1", "https://u:p@h/i/disk.qcow2?sig=s"})
	want := []string{"disk.qcow2", "disk.qcow2-2", "x_y.raw", "_", "batch-2", "disk.qcow2-3"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("outputNames = %q, want %q", got, want)
			break
		}
	}
}

// TestCompletion: the shell completes flag values and rule IDs.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  string
	}{
		{[]string{"__complete", "scan", "--format", ""}, []string{"text", "json", "sarif", "junit"}, ""},
		{[]string{"__complete", "scan", "--profile", ""}, []string{"marketplace", "img_check"}, ""},
		{[]string{"__complete", "scan", "--fail-on", ""}, []string{"fail", "warn"}, ""},
		{[]string{"__complete", "scan", "--disable-rule", "ssh."}, []string{"ssh.authorized-keys\t"}, "os.supported"},
	} {
		out, _, code := runCmd(t, tc.args...)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("%v: exit %d, completions lack %q:\n%s", tc.args, code, w, out)
			}
		}
		if tc.not != "" && strings.Contains(out, tc.not) {
			t.Errorf("%v: completes %q, which does not match", tc.args, tc.not)
		}
	}
	if out, _, code := runCmd(t, "completion", "bash"); code != 0 || !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash: exit %d", code)
	}
}
