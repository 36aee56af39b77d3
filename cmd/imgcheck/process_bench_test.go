package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkProcess runs the imgcheck binary, built as `make build` builds
// it, as a user does: `imgcheck scan` of the 25 GiB demo disk, and
// `imgcheck version` (start-up alone). ns/op is the whole process, from
// exec to exit; init-ms and init-bytes are what package initialisation
// took in one more run, as GODEBUG=inittrace=1 reports it.
func BenchmarkProcess(b *testing.B) {
	bin := buildImgcheck(b)
	disk := demoDisk(b)
	for _, c := range []struct {
		name string
		args []string
	}{{"scan-demo", []string{"scan", disk}}, {"version", []string{"version"}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := exec.Command(bin, c.args...).Run(); exitCode(err) > 1 {
					b.Fatalf("imgcheck %s: %v", strings.Join(c.args, " "), err)
				}
			}
			ms, size := initCost(b, bin, c.args)
			b.ReportMetric(ms, "init-ms")
			b.ReportMetric(size, "init-bytes")
		})
	}
}

// buildImgcheck builds ./cmd/imgcheck into a temporary directory with the
// flags of `make build`.
func buildImgcheck(tb testing.TB) string {
	tb.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("go not in PATH: cannot build the binary")
	}
	bin := filepath.Join(tb.TempDir(), "imgcheck")
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// exitCode is the exit status of a finished command, 0 for success and
// -1 when it did not run.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode()
	}
	return -1
}

// initCost runs bin once with GODEBUG=inittrace=1 and sums the clock time
// and heap bytes of every package's initialisation.
func initCost(tb testing.TB, bin string, args []string) (ms, size float64) {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); exitCode(err) > 1 {
		tb.Fatalf("imgcheck %s: %v", strings.Join(args, " "), err)
	}
	// init internal/bytealg @0.003 ms, 0.002 ms clock, 0 bytes, 0 allocs
	lines := 0
	for sc := bufio.NewScanner(&stderr); sc.Scan(); {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[0] != "init" {
			continue
		}
		clock, err1 := strconv.ParseFloat(f[4], 64)
		n, err2 := strconv.ParseFloat(f[7], 64)
		if err1 != nil || err2 != nil {
			tb.Fatalf("unexpected inittrace line %q", sc.Text())
		}
		ms += clock
		size += n
		lines++
	}
	if lines == 0 {
		tb.Fatalf("no inittrace lines in:\n%s", stderr.String())
	}
	return ms, size
}
