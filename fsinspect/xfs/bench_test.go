package xfs_test

import (
	"os"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect/xfs"
)

// BenchmarkCompliance opens the filesystem and does what a compliance
// scan does on it: reads a few configuration files, looks up a file deep
// in the tree and in a directory of 3000 entries, and lists that
// directory. It reports the bytes and read calls that reach the image.
func BenchmarkCompliance(b *testing.B) {
	p := fixtures.MustXFS(b, standardTree(true, true), fixtures.XFSOptions{})
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	c := &countingReader{r: f}
	for b.Loop() {
		fsys, err := xfs.New(c, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []string{"etc/passwd", "etc/shadow", "etc/ssh/sshd_config", "deep/a/b/c/d/e/f/g/h/file", "big/file-with-a-rather-longer-name-02999"} {
			if _, err := fsys.ReadFile(n); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := fsys.ReadLink("l/abs"); err != nil {
			b.Fatal(err)
		}
		if ents, err := fsys.ReadDir("big"); err != nil || len(ents) != 3000 {
			b.Fatal(len(ents), err)
		}
	}
	b.ReportMetric(float64(c.bytes)/float64(b.N), "bytes/op")
	b.ReportMetric(float64(c.calls)/float64(b.N), "reads/op")
}
