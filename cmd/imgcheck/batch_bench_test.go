package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// batchMemoryBound is what a batch of any length may hold resident.
const batchMemoryBound = 256 << 20

// BenchmarkBatch1000 scans 1,000 images (hard links to two small sample
// images, clean and leaky) in a child imgcheck with -j 2 and --format
// jsonl on stdout, reading the lines as they stream. It reports images/s
// and the child's peak RSS, which must stay under 256 MiB: the batch
// keeps no report once its line is written.
func BenchmarkBatch1000(b *testing.B) {
	const n = 1000
	fsClean := fixtures.MustExt4(b, cleanTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})
	fsLeaky := fixtures.MustExt4(b, leakyTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})
	srcs := []string{
		fixtures.MustDisk(b, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fsClean}}}),
		fixtures.MustDisk(b, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fsLeaky}}}),
	}
	dir := b.TempDir()
	var list strings.Builder
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("image-%04d.raw", i))
		if err := os.Link(srcs[i%2], p); err != nil {
			b.Fatal(err)
		}
		list.WriteString(p + "\n")
	}
	listFile := filepath.Join(dir, "list.txt")
	os.WriteFile(listFile, []byte(list.String()), 0o644)
	var rss int64
	for b.Loop() {
		hwm := filepath.Join(b.TempDir(), "status")
		cmd := exec.Command(os.Args[0], "scan", "-j", "2", "--from", listFile, "--format", "jsonl")
		cmd.Env = append(os.Environ(), "IMGCHECK_TEST_CHILD=1", "IMGCHECK_TEST_HWM="+hwm)
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 64<<20)
		lines := 0
		for sc.Scan() {
			lines++
		}
		if err := cmd.Wait(); err != nil && cmd.ProcessState.ExitCode() != 1 {
			b.Fatalf("exit %v", err)
		}
		if lines != n {
			b.Fatalf("%d lines for %d images", lines, n)
		}
		status, _ := os.ReadFile(hwm)
		if m := vmHWM.FindSubmatch(status); m != nil {
			kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
			rss = max(rss, kb<<10)
		}
	}
	if rss == 0 {
		b.Fatal("no peak RSS measured")
	}
	if rss > batchMemoryBound {
		b.Errorf("peak RSS %d MiB is over the %d MiB bound", rss>>20, batchMemoryBound>>20)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
}
