package tools

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// scratch holds what the tests build once per run: the imgcheck binary and
// the demo image.
var scratch string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imgcheck-tools")
	if err != nil {
		panic(err)
	}
	scratch = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the imgcheck checkout this module sits in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// testVersion and testRevision are stamped into the binary the tests build.
const (
	testVersion  = "v0.0.0-tooltest"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// hostBinary builds a static imgcheck for this machine from the checkout,
// stamped the way .goreleaser.yaml stamps releases.
func hostBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binPath = filepath.Join(scratch, "bin", "imgcheck")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath,
			"-ldflags", "-X main.version="+testVersion+" -X main.revision="+testRevision, "./cmd/imgcheck")
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		binErr = runLogged(cmd)
	})
	if binErr != nil {
		t.Fatal("building imgcheck:", binErr)
	}
	return binPath
}

var (
	demoOnce sync.Once
	demoPath string
	demoErr  error
)

// demoImage builds the image of `make demo` (a GPT disk with an ext4 root
// and findings on purpose).
func demoImage(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the demo image is built with Linux tools")
	}
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		if _, err := os.Stat("/usr/sbin/mkfs.ext4"); err != nil {
			t.Skip("mkfs.ext4 (e2fsprogs) is needed for the demo image")
		}
	}
	demoOnce.Do(func() {
		dir := filepath.Join(scratch, "demo")
		cmd := exec.Command("go", "run", "./fixtures/cmd/mkdemo", "-o", dir)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
		demoErr = runLogged(cmd)
		demoPath = filepath.Join(dir, "demo.raw")
	})
	if demoErr != nil {
		t.Fatal("building the demo image:", demoErr)
	}
	return demoPath
}

// runLogged runs cmd and returns an error carrying its output on failure.
func runLogged(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return &cmdError{cmd.Args, err, out.String()}
	}
	return nil
}

type cmdError struct {
	args []string
	err  error
	out  string
}

func (e *cmdError) Error() string { return e.err.Error() + " from " + e.args[0] + ":\n" + e.out }
