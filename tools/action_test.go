package tools

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// actionRun is one run of the Action's script under a fake GitHub runner.
type actionRun struct {
	code    int
	log     string
	summary string
	outputs map[string]string
}

// runAction runs scripts/action.sh as action.yml does, with the inputs as
// IMGCHECK_* variables and RUNNER_TEMP, GITHUB_STEP_SUMMARY and
// GITHUB_OUTPUT in a temporary directory.
func runAction(t *testing.T, inputs map[string]string) actionRun {
	t.Helper()
	tmp := t.TempDir()
	arch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	env := append(os.Environ(),
		"RUNNER_OS=Linux", "RUNNER_ARCH="+arch, "RUNNER_TEMP="+tmp,
		"GITHUB_STEP_SUMMARY="+filepath.Join(tmp, "summary.md"),
		"GITHUB_OUTPUT="+filepath.Join(tmp, "output"),
		"GITHUB_ACTION_PATH="+repoRoot(t), "IMGCHECK_SOURCE="+repoRoot(t))
	for k, v := range inputs {
		env = append(env, "IMGCHECK_"+k+"="+v)
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "scripts", "action.sh"))
	cmd.Env = env
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	r := actionRun{code: exitCode(err), log: string(out), outputs: map[string]string{}}
	summary, _ := os.ReadFile(filepath.Join(tmp, "summary.md"))
	r.summary = string(summary)
	outputs, _ := os.ReadFile(filepath.Join(tmp, "output"))
	for line := range strings.Lines(string(outputs)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			r.outputs[k] = v
		}
	}
	return r
}

// checkFindings checks a run over the demo image: exit 1 for its FAILs,
// the verdict and report outputs, and a summary with the image's row.
func checkFindings(t *testing.T, r actionRun, sarif string) {
	t.Helper()
	if r.code != 1 || r.outputs["verdict"] != "fail" || r.outputs["exit-code"] != "1" {
		t.Fatalf("exit %d, outputs %v; want exit 1 and verdict fail\n%s", r.code, r.outputs, r.log)
	}
	if fi, err := os.Stat(r.outputs["json"]); err != nil || fi.Size() == 0 {
		t.Errorf("json output %q: %v", r.outputs["json"], err)
	}
	if r.outputs["sarif"] != sarif {
		t.Errorf("sarif output = %q, want %q", r.outputs["sarif"], sarif)
	}
	if data, err := os.ReadFile(sarif); err != nil || !strings.Contains(string(data), `"version": "2.1.0"`) {
		t.Errorf("SARIF report %s: %v", sarif, err)
	}
	if _, err := exec.LookPath("jq"); err != nil {
		t.Log("no jq: the job summary has the verdict only")
		return
	}
	if !strings.Contains(r.summary, "## imgcheck: fail") || !strings.Contains(r.summary, "demo.raw | marketplace | **fail** |") ||
		!strings.Contains(r.summary, "- **FAIL** ") {
		t.Errorf("job summary:\n%s", r.summary)
	}
	if !strings.Contains(r.log, "FAIL") {
		t.Errorf("no text report in the log:\n%s", r.log)
	}
}

// TestActionSource: version: source builds imgcheck from this checkout.
func TestActionSource(t *testing.T) {
	demo := demoImage(t)
	sarif := filepath.Join(t.TempDir(), "imgcheck.sarif")
	r := runAction(t, map[string]string{"IMAGES": demo, "VERSION": "source", "SARIF": sarif})
	checkFindings(t, r, sarif)
}

// TestActionRelease: the release download from a fake release site, for a
// tag and for latest, and a refused download whose checksum differs.
func TestActionRelease(t *testing.T) {
	demo := demoImage(t)
	site := fakeReleases(t, hostBinary(t), "v9.9.9")
	for _, version := range []string{"v9.9.9", "latest"} {
		sarif := filepath.Join(t.TempDir(), "imgcheck.sarif")
		r := runAction(t, map[string]string{"IMAGES": demo, "VERSION": version, "SARIF": sarif, "RELEASES": "file://" + site})
		checkFindings(t, r, sarif)
		if !strings.Contains(r.log, "imgcheck "+testVersion+" (revision "+testRevision) {
			t.Errorf("%s: the downloaded binary did not run:\n%s", version, r.log)
		}
	}

	sums := filepath.Join(site, "download", "v9.9.9", "SHA256SUMS")
	if err := os.WriteFile(sums, fmt.Appendf(nil, "%064x  imgcheck_linux_%s.tar.gz\n", 0, runtime.GOARCH), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runAction(t, map[string]string{"IMAGES": demo, "VERSION": "v9.9.9", "RELEASES": "file://" + site})
	if r.code != 2 || !strings.Contains(r.log, "checksum mismatch") || r.outputs["verdict"] != "" {
		t.Errorf("tampered archive: exit %d, outputs %v; want exit 2, refused before any scan\n%s", r.code, r.outputs, r.log)
	}
}

// fakeReleases lays out a GitHub release site in a directory: the archive
// of bin as goreleaser names it and SHA256SUMS, under download/TAG and
// latest/download.
func fakeReleases(t *testing.T, bin, tag string) string {
	t.Helper()
	site := t.TempDir()
	asset := "imgcheck_linux_" + runtime.GOARCH + ".tar.gz"
	for _, dir := range []string{filepath.Join(site, "download", tag), filepath.Join(site, "latest", "download")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		archive := filepath.Join(dir, asset)
		if err := tarGz(archive, bin); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		sums := fmt.Sprintf("%x  imgcheck_darwin_arm64.tar.gz\n%x  %s\n", sha256.Sum256(nil), sha256.Sum256(data), asset)
		if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return site
}

// tarGz writes a gzip tar archive holding bin as "imgcheck" and a README,
// as goreleaser's archives do.
func tarGz(archive, bin string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		mode int64
		body []byte
	}{{"README.md", 0o644, []byte("imgcheck\n")}, {"imgcheck", 0o755, data}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body))}); err != nil {
			return err
		}
		if _, err := tw.Write(e.body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
