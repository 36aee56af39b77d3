package imgcheck_test

import (
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

func TestDiskUploadFormat(t *testing.T) {
	raw := demoDisk(t, "gpt")
	q := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{})
	cases := []struct {
		name, path string
		level      rules.Level
		msg        string
	}{
		{"raw", raw, rules.Pass, "the upload format (raw) is one DigitalOcean accepts"},
		{"qcow2", q, rules.Pass, "upload format (qcow2) is"},
		{"qcow2.gz", fixtures.MustGzip(t, q, "gzip"), rules.Pass, "(qcow2 compressed with gzip)"},
		{"raw.bz2", fixtures.MustGzip(t, raw, "bzip2"), rules.Pass, "(raw compressed with bzip2)"},
		{"raw.xz", fixtures.MustGzip(t, raw, "xz"), rules.Warn, "compressed with xz: DigitalOcean accepts gzip or bzip2 only"},
		{"qcow2.zst", fixtures.MustGzip(t, q, "zstd"), rules.Warn, "compressed with zstd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := findingsOf(t, scanImage(t, c.path, rules.Marketplace).Results, "disk.upload-format")
			if len(fs) != 1 || fs[0].Level != c.level || !strings.Contains(fs[0].Message, c.msg) {
				t.Fatalf("%+v, want one %s containing %q", fs, c.level, c.msg)
			}
			if c.level == rules.Warn && fs[0].Fix == "" {
				t.Error("no fix")
			}
		})
	}
}

// TestDiskUploadFormatOverlay: a qcow2 overlay read with --allow-backing
// is incomplete on its own.
func TestDiskUploadFormatOverlay(t *testing.T) {
	raw := demoDisk(t, "gpt")
	base := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{})
	overlay := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{Backing: base})
	sel, err := imgcheck.Select(rules.Marketplace, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := imgcheck.Open(t.Context(), overlay, imgcheck.Options{AllowBacking: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	fs := findingsOf(t, imgcheck.Scan(t.Context(), tg, sel).Results, "disk.upload-format")
	if len(fs) != 1 || fs[0].Level != rules.Warn || !strings.Contains(fs[0].Message, "backing file") || fs[0].Get("backing_file") != "yes" {
		t.Fatalf("%+v, want one WARN about the backing file", fs)
	}
}

func TestDiskRootFS(t *testing.T) {
	ext2 := fixtures.MustExt4(t, fixtures.DemoTree(), fixtures.Ext4Options{Type: "ext2", Size: 64 << 20, Label: "root"})
	ext3 := fixtures.MustExt4(t, fixtures.DemoTree(), fixtures.Ext4Options{Type: "ext3", Size: 64 << 20, Label: "root"})
	cases := []struct {
		name, path string
		level      rules.Level
		msg        string
	}{
		{"ext4", demoDisk(t, "gpt"), rules.Pass, "the root filesystem is ext4"},
		{"ext3", fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: ext3}}}), rules.Pass, "the root filesystem is ext3"},
		{"no root", fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Size: 1 << 20}}}), rules.Error, "cannot evaluate: root filesystem"},
		{"ext2", fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: ext2}}}), rules.Warn, "the root filesystem is ext2: DigitalOcean's custom-image requirements name ext3 and ext4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := findingsOf(t, scanImage(t, c.path, rules.Marketplace).Results, "disk.root-fs")
			if len(fs) != 1 || fs[0].Level != c.level || !strings.Contains(fs[0].Message, c.msg) {
				t.Fatalf("%+v, want one %s containing %q", fs, c.level, c.msg)
			}
		})
	}
}
