package main

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestScanLiveRoot scans this machine's own "/" as the Packer Droplet flow
// scans a running build Droplet: both profiles finish in bounded time with
// findings or a clean result (exit 0 or 1, never 3), and no secret of the
// host reaches the output.
func TestScanLiveRoot(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a live root scan is for Linux hosts")
	}
	secrets := shadowHashes(t)
	for _, args := range [][]string{
		{"scan", "--root", "/", "--profile", "img_check"},
		{"scan", "--root", "/", "--fail-on", "fail", "--format", "json"},
	} {
		type result struct {
			out, errOut string
			code        int
		}
		done := make(chan result, 1)
		go func() {
			out, errOut, code := runCmd(t, args...)
			done <- result{out, errOut, code}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Minute):
			t.Fatalf("%v did not finish in 5 minutes", args)
		}
		if r.code != 0 && r.code != 1 {
			t.Errorf("%v: exit %d, want 0 or 1\n%s", args, r.code, r.errOut)
		}
		all := r.out + r.errOut
		if strings.Contains(all, "PRIVATE KEY") {
			t.Errorf("%v printed a private key", args)
		}
		for _, h := range secrets {
			if strings.Contains(all, h) {
				t.Errorf("%v printed a password hash from /etc/shadow", args)
			}
		}
		if !strings.Contains(r.out, "Scan Complete") && !strings.Contains(r.out, `"verdict"`) {
			t.Errorf("%v: no report on stdout:\n%s", args, r.out)
		}
	}
}

// shadowHashes returns the password hashes in the host's /etc/shadow, or
// none when it cannot be read.
func shadowHashes(t *testing.T) []string {
	f, err := os.Open("/etc/shadow")
	if err != nil {
		t.Logf("no /etc/shadow to compare with: %v", err)
		return nil
	}
	defer f.Close()
	var hashes []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) > 1 && len(fields[1]) > 3 {
			hashes = append(hashes, fields[1])
		}
	}
	return hashes
}
