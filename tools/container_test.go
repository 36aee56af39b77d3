package tools

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// TestContainerImage builds the container image with cmd/mkimage, reads
// it back as an OCI layout and checks its config (entrypoint, non-root
// user) and its one layer (the binary, passwd, group, /tmp: no shell),
// then runs the binary taken out of the layer on the demo image, and the
// image itself with podman where podman works.
func TestContainerImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is for Linux")
	}
	bin := hostBinary(t)
	archive := filepath.Join(t.TempDir(), "imgcheck-oci.tar")
	cmd := exec.Command("go", "run", "./cmd/mkimage", "-o", archive, "-version", testVersion, "-revision", testRevision,
		"linux/"+runtime.GOARCH+"="+bin)
	if err := runLogged(cmd); err != nil {
		t.Fatal(err)
	}
	img := readOnlyImage(t, archive)

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"/imgcheck"}) || cf.Config.User != "65532:65532" ||
		cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("config: entrypoint %q, user %q, platform %s/%s", cf.Config.Entrypoint, cf.Config.User, cf.OS, cf.Architecture)
	}
	if cf.Config.Labels["org.opencontainers.image.revision"] != testRevision {
		t.Errorf("labels = %v", cf.Config.Labels)
	}

	files := layerFiles(t, img)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	if want := []string{"etc/", "etc/group", "etc/passwd", "imgcheck", "tmp/"}; !slices.Equal(names, want) {
		t.Errorf("layer files = %q, want %q (no shell, nothing else)", names, want)
	}
	if !strings.Contains(string(files["etc/passwd"]), ":65532:65532:") {
		t.Errorf("/etc/passwd does not name user 65532:\n%s", files["etc/passwd"])
	}
	want, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files["imgcheck"], want) {
		t.Fatal("the image's /imgcheck is not the binary it was built from")
	}

	extracted := filepath.Join(t.TempDir(), "imgcheck")
	if err := os.WriteFile(extracted, files["imgcheck"], 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(extracted, "--version").Output()
	if err != nil || !strings.Contains(string(out), testVersion) || !strings.Contains(string(out), testRevision) {
		t.Errorf("extracted imgcheck --version = %q, %v", out, err)
	}
	demo := demoImage(t)
	out, err = exec.Command(extracted, "scan", demo).Output()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "FAIL") {
		t.Errorf("extracted imgcheck scan demo.raw: exit %d (want 1, findings)\n%s", code, out)
	}

	runWithPodman(t, archive, demo)
}

// readOnlyImage unpacks the OCI layout archive and returns its one image,
// checking the index names it by version.
func readOnlyImage(t *testing.T, archive string) v1.Image {
	t.Helper()
	dir := t.TempDir()
	if err := untar(archive, dir); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Manifests) != 1 || tm.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "imgcheck:"+testVersion {
		t.Fatalf("index.json = %+v; want one index named imgcheck:%s", tm.Manifests, testVersion)
	}
	idx, err := top.ImageIndex(tm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Platform == nil || im.Manifests[0].Platform.Architecture != runtime.GOARCH {
		t.Fatalf("image index = %+v; want one linux/%s image", im.Manifests, runtime.GOARCH)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// layerFiles returns the contents of every entry of the image's single
// layer by name.
func layerFiles(t *testing.T, img v1.Image) map[string][]byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = body
	}
}

// runWithPodman loads the archive into podman, checks podman reads the
// user and entrypoint, and scans the demo image mounted read-only, as the
// README's `docker run` line does. Where podman is missing or cannot start
// a container (exit 125 and above: no root, a sandbox that refuses
// setrlimit) it logs why.
func runWithPodman(t *testing.T, archive, demo string) {
	if _, err := exec.LookPath("podman"); err != nil || os.Geteuid() != 0 {
		t.Log("podman not run: needs podman and root")
		return
	}
	out, err := exec.Command("podman", "load", "-i", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	ref := "localhost/imgcheck:" + testVersion
	defer exec.Command("podman", "rmi", "-f", ref).Run()
	out, err = exec.Command("podman", "image", "inspect", "--format", "{{.Config.User}} {{.Config.Entrypoint}}", ref).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "65532:65532 [/imgcheck]" {
		t.Errorf("podman image inspect %s = %q, %v", ref, out, err)
	}
	run := exec.Command("podman", "run", "--rm", "--network=none", "--read-only",
		"-v", filepath.Dir(demo)+":/images:ro", ref, "scan", "/images/demo.raw")
	out, err = run.CombinedOutput()
	code := exitCode(err)
	if code >= 125 {
		t.Logf("podman could not run a container here (exit %d):\n%s", code, out)
		return
	}
	if code != 1 || !strings.Contains(string(out), "FAIL") {
		t.Errorf("podman run %s scan /images/demo.raw: exit %d (want 1, findings)\n%s", ref, code, out)
	}
	t.Logf("podman run %s scan /images/demo.raw: exit %d", ref, code)
}

// untar unpacks the regular files and directories of a tar archive.
func untar(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(dst, dir+string(filepath.Separator)) {
			return errors.New("tar entry outside the directory: " + h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, 0o755)
		case tar.TypeReg:
			var body []byte
			if body, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(dst, body, 0o644)
			}
		}
		if err != nil {
			return err
		}
	}
}

// exitCode is the exit status in err from os/exec, 0 for nil, -1 when the
// command did not run.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode()
	}
	return -1
}
