package image_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// FuzzReadTable feeds ReadTable arbitrary disks. The seeds are kept small
// (the fuzzer minimises slowly): each fixture layout's table shrunk into
// an 8-sector disk (GPT with 4 entries and its backup), the first 4 KiB of
// the MBR layouts, and a compact EBR chain. It checks for no panic, errors
// of one type, and sane partitions.
func FuzzReadTable(f *testing.F) {
	for _, tt := range layoutTests() {
		if tt.name == "gpt25GiB" || tt.name == "bare" {
			continue
		}
		b, err := os.ReadFile(fixtures.MustDisk(f, tt.layout(f)))
		if err != nil {
			f.Fatal(err)
		}
		if string(b[512:520]) == "EFI PART" {
			f.Add(shrinkGPT(b))
		} else {
			f.Add(b[:4096])
		}
	}
	f.Add(ebrChainDisk(3, 512))
	f.Add(ebrChainDisk(3, 4096))
	f.Add([]byte{})
	f.Add(make([]byte, 513))
	f.Fuzz(func(t *testing.T, disk []byte) {
		size := int64(len(disk))
		tab, err := image.ReadTable(bytes.NewReader(disk), size)
		if err != nil {
			if _, ok := errors.AsType[*image.FormatError](err); !ok {
				t.Fatalf("error is not a *FormatError: %v", err)
			}
			return
		}
		if len(tab.Partitions) > 16384+4+256 {
			t.Fatalf("%d partitions", len(tab.Partitions))
		}
		buf := make([]byte, 512)
		for _, p := range tab.Partitions {
			if p.Start < 0 || p.Size < 0 {
				t.Fatalf("partition %+v", p)
			}
			if _, err := p.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, image.ErrTruncated) {
				t.Fatalf("partition %d read: %v", p.Index, err)
			}
			image.Sniff(&p, p.Size)
		}
	})
}
