package report_test

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
	"github.com/imgcheck/imgcheck/rules/report"
)

// TestImgCheckAgainstRealScript confirms the parity goldens against
// DigitalOcean's img_check.sh itself. It is an optional oracle: set
// IMGCHECK_REAL_SCRIPT to a copy of scripts/99-img-check.sh (v1.8.1, never
// part of this repository) and IMGCHECK_REAL_ROOT to a Debian root made by
// debootstrap. Each golden tree is laid over that root with an overlay
// mount (the root is never written), imgcheck reads the merged directory,
// the script runs in a chroot of it without network, and both outputs must
// match with ANSI codes stripped and the date line ignored. imgcheck runs
// with ShowContents so that its content blocks are the bodies the script
// cats. It needs root, mount, chroot and unshare.
func TestImgCheckAgainstRealScript(t *testing.T) {
	script, base := os.Getenv("IMGCHECK_REAL_SCRIPT"), os.Getenv("IMGCHECK_REAL_ROOT")
	if script == "" || base == "" {
		t.Skip("IMGCHECK_REAL_SCRIPT and IMGCHECK_REAL_ROOT are not set")
	}
	body, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range append(append(goldenCases, edgeCases...), baseCases...) {
		t.Run(tc.name, func(t *testing.T) {
			merged := overlay(t, base)
			layTree(t, merged, tc.tree)
			want, wantColor, wantRC := imgcheckOnDir(t, merged)
			raw, gotRC := runRealScript(t, merged, body)
			if got := ansi.ReplaceAllString(raw, ""); comparable(got) != comparable(want) {
				t.Errorf("img_check.sh and imgcheck differ:\n%s", lineDiff(comparable(got), comparable(want)))
			}
			if comparable(raw) != comparable(wantColor) {
				t.Errorf("with colour, img_check.sh and imgcheck differ:\n%s", lineDiff(comparable(raw), comparable(wantColor)))
			}
			if gotRC != wantRC {
				t.Errorf("img_check.sh exited %d, imgcheck predicts %d", gotRC, wantRC)
			}
		})
	}
}

// baseCases use the base root itself (a real Debian 12 tree, its own
// os-release, packages and apt lists) with only /var/log and /home
// emptied; they have no golden file.
var baseCases = []goldenCase{
	{"debian12-base", fstest.MapFS{}, 0},
}

// comparable drops the date line and sorts the list of pending security
// updates, which the script prints in apt's order and imgcheck sorts.
func comparable(s string) string {
	lines := strings.Split(withoutDate(s), "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, "Here is a list of the security updates that are not installed:") {
			end := i + 1
			for end < len(lines) && lines[end] != "" && !strings.Contains(lines[end], "Checking for log files") {
				end++
			}
			slices.Sort(lines[i+1 : end])
		}
	}
	return strings.Join(lines, "\n")
}

// overlay mounts a writable overlay over the read-only lower directory.
func overlay(t *testing.T, lower string) string {
	t.Helper()
	dir := t.TempDir()
	upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := syscall.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("overlay mount (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(merged, syscall.MNT_DETACH); err != nil {
			t.Error(err)
		}
	})
	return merged
}

// standIns are tree files that stand for a binary the script itself
// runs; the base root's real one is kept.
var standIns = []string{"usr/bin/mawk"}

// layTree empties /var/log and /home, removes whatever the tree replaces,
// and writes the tree, except the stand-ins.
func layTree(t *testing.T, root string, tree fstest.MapFS) {
	t.Helper()
	tree = maps.Clone(tree)
	for _, name := range standIns {
		delete(tree, name)
	}
	for _, dir := range []string{"var/log", "home"} {
		ents, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range ents {
			if err := os.RemoveAll(filepath.Join(root, dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range tree {
		if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	if err := fixtures.Materialize(root, tree); err != nil {
		t.Fatal(err)
	}
}

// imgcheckOnDir renders the img_check profile for the directory root,
// without and with colour.
func imgcheckOnDir(t *testing.T, root string) (plain, color string, rc int) {
	t.Helper()
	d, err := fsinspect.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	g := fsinspect.NewGuest(d)
	sel, err := rules.Select(rules.ImgCheck, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := rules.Run(t.Context(), g, sel, rules.Options{Profile: rules.ImgCheck, Now: goldenNow}, nil)
	var out, colored bytes.Buffer
	if err := report.ImgCheck(&out, rs, report.ImgCheckOptions{Now: goldenNow, ShowContents: true, Contents: contentsOf(t, g, rs)}); err != nil {
		t.Fatal(err)
	}
	if err := report.ImgCheck(&colored, rs, report.ImgCheckOptions{Now: goldenNow, ShowContents: true, Contents: contentsOf(t, g, rs), Color: true}); err != nil {
		t.Fatal(err)
	}
	return out.String(), colored.String(), imgcheck.ExitCode(rs)
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// runRealScript runs the script as root in a chroot of root, without
// network, and returns its stdout.
func runRealScript(t *testing.T, root string, script []byte) (string, int) {
	t.Helper()
	const inGuest = "usr/local/share/img-check.sh"
	if err := os.MkdirAll(filepath.Join(root, "usr/local/share"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, inGuest), script, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "-n", "chroot", root, "/usr/bin/env", "-i",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "TERM=dumb", "HOME=/root",
		"/bin/bash", "/"+inGuest)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	rc := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running img_check.sh: %v\n%s", err, stderr.String())
	}
	return stdout.String(), rc
}
