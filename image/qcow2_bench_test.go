package image_test

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/ext4"
	"github.com/imgcheck/imgcheck/image"
)

// benchTargets are the files a scan reads, out of benchTree's many.
var benchTargets = []string{
	"etc/os-release", "etc/ssh/sshd_config", "home/alice/.bashrc", "etc/passwd",
	"etc/conf.d/file-007.conf", "etc/conf.d/file-123.conf", "etc/conf.d/file-399.conf", "var/log/syslog",
}

// benchTree looks like a small system: configuration files of a few
// hundred bytes to a few KiB, incompressible binaries, a log.
func benchTree() fstest.MapFS {
	tree := fstest.MapFS{
		"etc/os-release":      fixtures.File("NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\n", 0o644),
		"etc/ssh/sshd_config": fixtures.File(strings.Repeat("# comment line of the default sshd_config\n", 80)+"PermitRootLogin prohibit-password\n", 0o644),
		"etc/passwd":          fixtures.File(strings.Repeat("daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", 30), 0o644),
		"home/alice/.bashrc":  fixtures.Owned("alias ll='ls -l'\n", 0o644, 1000, 1000),
		"var/log/syslog":      fixtures.File(strings.Repeat("kernel: booted\n", 600), 0o640),
	}
	for i := range 400 {
		tree[fmt.Sprintf("etc/conf.d/file-%03d.conf", i)] = fixtures.File(strings.Repeat(fmt.Sprintf("option%d = %d\n", i, i*i), 1+i%200), 0o644)
	}
	rng := rand.New(rand.NewChaCha8([32]byte{'b', 'i', 'n'}))
	for i := range 24 {
		bin := make([]byte, 100<<10)
		for j := range bin {
			bin[j] = byte(rng.Uint32())
		}
		tree[fmt.Sprintf("usr/bin/tool%02d", i)] = &fstest.MapFile{Data: bin, Mode: 0o755}
	}
	return tree
}

// BenchmarkTargetedRead reads benchTargets through the ext4 reader from
// the same tree as raw, qcow2 and compressed qcow2. A cold scan opens,
// reads and closes the image each time, as one imgcheck run does; a warm
// scan opens it once and repeats only the reads, so compressed clusters
// come from the cluster cache. Beside wall time it reports CPU time (the
// machine may be shared), host bytes read and host read calls per scan.
func BenchmarkTargetedRead(b *testing.B) {
	raw := fixtures.MustExt4(b, benchTree(), fixtures.Ext4Options{Size: 32 << 20})
	for _, v := range []struct {
		name string
		path string
	}{
		{"raw", raw},
		{"qcow2", fixtures.MustQCOW2(b, raw, fixtures.QCOW2Options{})},
		{"qcow2-zlib", fixtures.MustQCOW2(b, raw, fixtures.QCOW2Options{Compress: true})},
		{"qcow2-zstd", fixtures.MustQCOW2(b, raw, fixtures.QCOW2Options{Compress: true, CompressionType: "zstd"})},
	} {
		b.Run(v.name+"/cold", func(b *testing.B) {
			var st image.ReadStats
			cpu := cpuTime(b)
			for b.Loop() {
				img := openImage(b, v.path)
				readTargets(b, img)
				st = img.Stats()
				img.Close()
			}
			reportScan(b, cpu, st, 1)
		})
		b.Run(v.name+"/warm", func(b *testing.B) {
			img := openImage(b, v.path)
			defer img.Close()
			readTargets(b, img)
			before := img.Stats()
			cpu := cpuTime(b)
			for b.Loop() {
				readTargets(b, img)
			}
			st := img.Stats()
			st.BytesRead -= before.BytesRead
			st.ReadCalls -= before.ReadCalls
			reportScan(b, cpu, st, b.N)
		})
	}
}

func openImage(b *testing.B, path string) *image.Image {
	img, err := image.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// readTargets reads benchTargets from the ext4 filesystem of img.
func readTargets(b *testing.B, img *image.Image) {
	fsys, err := ext4.New(img, img.Size())
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range benchTargets {
		if _, err := fs.ReadFile(fsys, name); err != nil {
			b.Fatal(err)
		}
	}
}

// reportScan reports CPU time per scan since cpu, and st over n scans.
func reportScan(b *testing.B, cpu int64, st image.ReadStats, n int) {
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(st.BytesRead)/float64(n), "host-bytes/op")
	b.ReportMetric(float64(st.ReadCalls)/float64(n), "host-reads/op")
}

// cpuTime is the CPU time this process has used, in nanoseconds: on a
// shared machine a steadier measure than wall time.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
