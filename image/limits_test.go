package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// TestReadTableLimitsGPT reads a GPT of 128 entries under gpt-entries
// limits around that count: below it both headers are refused, at it (and
// with the zero Limits, meaning the defaults) the table reads.
func TestReadTableLimitsGPT(t *testing.T) {
	path := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Size: mib}}})
	img, err := image.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	head := make([]byte, 8)
	if _, err := img.ReadAt(head, 512+80); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint32(head); n != 128 {
		t.Fatalf("fixture GPT has %d entries, want 128", n)
	}
	for _, tt := range []struct {
		name string
		l    image.Limits
		want string // error text; "" for success
	}{
		{"below", image.Limits{GPTEntries: 127}, "128 entries of 128 bytes is more than imgcheck reads (the gpt-entries limit is 127)"},
		{"far below", image.Limits{GPTEntries: 64}, "(the gpt-entries limit is 64)"},
		{"at", image.Limits{GPTEntries: 128}, ""},
		{"zero means default", image.Limits{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := image.ReadTableLimits(img, img.Size(), tt.l)
			if tt.want == "" {
				if err != nil || len(tab.Partitions) != 1 {
					t.Fatalf("ReadTableLimits = %v, %v; want one partition", tab, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadTableLimits read %d partitions; want an error", len(tab.Partitions))
			}
			if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "backup unreadable") {
				t.Errorf("error %q: want ErrUnsupported, %q, and the backup refused too", err, tt.want)
			}
		})
	}
}

// TestReadTableLimitsEBR follows a chain of 10 EBRs under ebr-links
// limits: a lower limit stops the chain with a Note, never silently.
func TestReadTableLimitsEBR(t *testing.T) {
	disk := ebrChainDisk(10, 512)
	for _, tt := range []struct {
		links   int
		logical int
		note    bool
	}{
		{3, 3, true},
		{9, 9, true},
		{10, 10, false},
		{0, 10, false}, // the default, 256
	} {
		tab, err := image.ReadTableLimits(bytes.NewReader(disk), int64(len(disk)), image.Limits{EBRLinks: tt.links})
		if err != nil {
			t.Fatal(err)
		}
		logical := 0
		for _, p := range tab.Partitions {
			if p.Logical {
				logical++
			}
		}
		notes := strings.Join(tab.Notes, "\n")
		hasNote := strings.Contains(notes, "links (the ebr-links limit); stopped")
		if logical != tt.logical || hasNote != tt.note {
			t.Errorf("ebr-links %d: %d logical partitions, notes %q; want %d, note %v", tt.links, logical, tab.Notes, tt.logical, tt.note)
		}
	}
}

// TestQCOW2L1Limit opens a qcow2 image with an L1 limit one byte under
// its L1 table's size, then exactly at it.
func TestQCOW2L1Limit(t *testing.T) {
	path := fixtures.MustQCOW2(t, sampleRaw(t), fixtures.QCOW2Options{})
	l1Bytes := int64(binary.BigEndian.Uint32(mustRead(t, path)[36:])) * 8
	if l1Bytes == 0 {
		t.Fatal("fixture has an empty L1 table")
	}
	_, err := image.Open(path, image.WithLimits(image.Limits{QCOW2L1Bytes: l1Bytes - 1}))
	if !errors.Is(err, image.ErrFormat) || !strings.Contains(err.Error(), "(the qcow2-l1 limit)") {
		t.Errorf("L1 limit %d under a %d-byte table: error %v; want the qcow2-l1 limit", l1Bytes-1, l1Bytes, err)
	}
	img, err := image.Open(path, image.WithLimits(image.Limits{QCOW2L1Bytes: l1Bytes}))
	if err != nil {
		t.Fatalf("L1 limit equal to the table: %v", err)
	}
	img.Close()
}

// TestQCOW2BackingDepthLimit opens top.qcow2 -> mid.qcow2 -> base.raw, two
// backing files deep, under backing-depth limits of 1 and 2.
func TestQCOW2BackingDepthLimit(t *testing.T) {
	dir := t.TempDir()
	writeHost(t, filepath.Join(dir, "base.raw"), fillWord("base"))
	emptyOverlay(t, dir, "mid.qcow2", "base.raw", "raw")
	top := emptyOverlay(t, dir, "top.qcow2", "mid.qcow2", "qcow2")

	_, err := image.Open(top, image.WithBacking(true), image.WithLimits(image.Limits{BackingDepth: 1}))
	if !errors.Is(err, image.ErrUnsupported) || !strings.Contains(err.Error(), "backing chain deeper than 1 files (the backing-depth limit)") {
		t.Errorf("depth 1: error %v; want the backing-depth limit", err)
	}
	img, err := image.Open(top, image.WithBacking(true), image.WithLimits(image.Limits{BackingDepth: 2}))
	if err != nil {
		t.Fatalf("depth 2: %v", err)
	}
	defer img.Close()
	got := make([]byte, 8)
	if _, err := img.ReadAt(got, 0); err != nil || string(got) != "basebase" {
		t.Errorf("read %q, %v; want the base's bytes", got, err)
	}
}

// TestQCOW2CacheLimit reads 2 MiB of data in 64 KiB clusters twice: with
// the default cache the second pass reads nothing from the host file; with
// the smallest cache (8 clusters) it must read again.
func TestQCOW2CacheLimit(t *testing.T) {
	data := bytes.Repeat([]byte("imgcheck cluster cache "), 2<<20/23+1)[:2<<20]
	raw := filepath.Join(t.TempDir(), "data.raw")
	if err := os.WriteFile(raw, data, 0o644); err != nil {
		t.Fatal(err)
	}
	path := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{})
	for _, tt := range []struct {
		cache     int64
		rereading bool
	}{
		{0, false},
		{1, true},
	} {
		img, err := image.Open(path, image.WithLimits(image.Limits{QCOW2Cache: tt.cache}))
		if err != nil {
			t.Fatal(err)
		}
		first := readAll(t, img)
		before := img.Stats()
		second := readAll(t, img)
		reread := img.Stats().BytesRead - before.BytesRead
		img.Close()
		if !bytes.Equal(first, data) || !bytes.Equal(second, data) {
			t.Fatalf("cache %d: data differs from the raw file", tt.cache)
		}
		if (reread > 0) != tt.rereading {
			t.Errorf("cache %d: second pass read %d host bytes; want rereading %v", tt.cache, reread, tt.rereading)
		}
	}
}
