package image_test

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// writeOVA writes an OVA as VMware exports one: the .ovf descriptor
// first, then a manifest, then the disks, each a tar member.
func writeOVA(t testing.TB, disks ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app.ova")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("app.ovf", []byte(`<?xml version="1.0"?><Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"></Envelope>`))
	add("app.mf", []byte("SHA256(app.ovf)= 00\n"))
	for i, d := range disks {
		b, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		add("app-disk"+string(rune('1'+i))+".vmdk", b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOVAReadsItsFirstDisk(t *testing.T) {
	stream := fixtures.MustConvert(t, containerDisk(t), "vmdk", "subformat=streamOptimized")
	other := fixtures.MustConvert(t, sampleRaw(t), "vmdk", "subformat=streamOptimized")
	p := writeOVA(t, stream, other)
	if got, err := image.MatchedFormats(p); err != nil || len(got) != 1 || got[0] != image.OVA {
		t.Fatalf("MatchedFormats = %v, %v; want ova", got, err)
	}
	img, err := image.OpenWithFormat(p, image.OVA)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	chain := img.Chain()
	if len(chain) != 3 || chain[0].Format != image.OVA || chain[0].Detail != `"app-disk1.vmdk", disk 1 of 2` || chain[0].Path != p ||
		chain[1].Subformat != "streamOptimized" || chain[1].Path != "" || chain[2].Format != image.Raw {
		t.Errorf("Chain() = %+v", chain)
	}
	sameAsOracle(t, img, fixtures.MustQemuRaw(t, stream))
}

func TestOVAHostile(t *testing.T) {
	stream := fixtures.MustConvert(t, sampleRaw(t), "vmdk", "subformat=streamOptimized")
	ova := writeOVA(t, stream)
	st, err := os.Stat(ova)
	if err != nil {
		t.Fatal(err)
	}
	must := fixtures.MustHostile(t)
	runHostile(t, image.OVA, []hostileCase{
		{"no disk", writeOVA(t), image.ErrUnsupported, "holds no VMDK disk", nil},
		{"cut in the disk", must(fixtures.Truncated(ova, st.Size()/2)), image.ErrTruncated, "unexpected EOF", nil},
	})
	t.Run("descriptor member", func(t *testing.T) {
		d := t.TempDir()
		desc := writeDescriptor(t, d, `RW 2048 FLAT "flat.img" 0`)
		_, err := image.OpenWithFormat(writeOVA(t, desc), image.OVA)
		if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), `extent file "flat.img"`) {
			t.Errorf("error %v; want the descriptor's extent refused", err)
		}
	})
}
