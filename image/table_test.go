package image_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
)

var smallTree = fstest.MapFS{
	"etc/os-release": fixtures.File("ID=debian\nVERSION_ID=\"12\"\n", 0o644),
	"etc/hostname":   fixtures.File("fixture\n", 0o644),
}

// rootFS is a 16 MiB ext4 filesystem.
func rootFS(t testing.TB) string {
	return fixtures.MustExt4(t, smallTree, fixtures.Ext4Options{Size: 16 * mib, Label: "root"})
}

// bootFS is an 8 MiB ext2 filesystem.
func bootFS(t testing.TB) string {
	return fixtures.MustExt4(t, smallTree, fixtures.Ext4Options{Type: "ext2", Size: 8 * mib, Label: "boot"})
}

// swapArea is a 1 MiB file with a Linux swap signature.
func swapArea(t testing.TB) string {
	b := make([]byte, mib)
	copy(b[4096-10:], "SWAPSPACE2")
	p := filepath.Join(t.TempDir(), "swap.img")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantPart is what a test expects of one partition.
type wantPart struct {
	Index       int
	Start, Size int64
	Type        string
	Name        string
	Logical     bool
	Bootable    bool
	FS          string // what Sniff says of it
}

type layoutTest struct {
	name     string
	layout   func(t testing.TB) fixtures.Layout
	scheme   image.Scheme
	sector   int
	parts    []wantPart
	notes    []string // substrings, one per expected note
	diskSize int64    // 0: not checked
}

func layoutTests() []layoutTest {
	return []layoutTest{
		{
			name: "gpt512",
			layout: func(t testing.TB) fixtures.Layout {
				return fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{
					{Type: "bios-boot", Size: mib, Name: "bios"},
					{Type: "efi", Size: 4 * mib, Name: "EFI system"},
					{Type: "linux", Image: rootFS(t), Name: "root"},
				}}
			},
			scheme: image.GPT, sector: 512,
			parts: []wantPart{
				{Index: 1, Start: mib, Size: mib, Type: "BIOS boot", Name: "bios"},
				{Index: 2, Start: 2 * mib, Size: 4 * mib, Type: "EFI System", Name: "EFI system"},
				{Index: 3, Start: 6 * mib, Size: 16 * mib, Type: "Linux filesystem", Name: "root", FS: "ext4"},
			},
			diskSize: 23 * mib,
		},
		{
			name: "gpt4096",
			layout: func(t testing.TB) fixtures.Layout {
				return fixtures.Layout{Scheme: "gpt", SectorSize: 4096, Parts: []fixtures.Part{
					{Type: "bios-boot", Size: mib},
					{Type: "linux", Image: rootFS(t), Name: "root"},
					{Type: "swap", Image: swapArea(t), Name: "swap"},
				}}
			},
			scheme: image.GPT, sector: 4096,
			parts: []wantPart{
				{Index: 1, Start: mib, Size: mib, Type: "BIOS boot"},
				{Index: 2, Start: 2 * mib, Size: 16 * mib, Type: "Linux filesystem", Name: "root", FS: "ext4"},
				{Index: 3, Start: 18 * mib, Size: mib, Type: "Linux swap", Name: "swap", FS: "swap"},
			},
		},
		{
			name: "gpt25GiB",
			layout: func(t testing.TB) fixtures.Layout {
				return fixtures.Layout{DiskSize: 25 << 30, Parts: []fixtures.Part{
					{Type: "bios-boot", Size: mib},
					{Type: "linux", Image: rootFS(t), Size: fixtures.Rest},
				}}
			},
			scheme: image.GPT, sector: 512,
			parts: []wantPart{
				{Index: 1, Start: mib, Size: mib, Type: "BIOS boot"},
				{Index: 2, Start: 2 * mib, Size: 25<<30 - 3*mib, Type: "Linux filesystem", FS: "ext4"},
			},
			diskSize: 25 << 30,
		},
		{
			name: "hybrid",
			layout: func(t testing.TB) fixtures.Layout {
				return fixtures.Layout{Parts: []fixtures.Part{
					{Type: "efi", Size: 2 * mib},
					{Type: "linux", Image: bootFS(t)},
				}, Hybrid: []int{2}}
			},
			scheme: image.GPT, sector: 512,
			parts: []wantPart{
				{Index: 1, Start: mib, Size: 2 * mib, Type: "EFI System"},
				{Index: 2, Start: 3 * mib, Size: 8 * mib, Type: "Linux filesystem", FS: "ext2"},
			},
			notes: []string{"hybrid MBR: 1 MBR entries"},
		},
		{
			name: "mbr",
			layout: func(t testing.TB) fixtures.Layout {
				return fixtures.Layout{Scheme: "mbr", Parts: []fixtures.Part{
					{Type: "linux", Image: rootFS(t), Bootable: true},
					{Type: "swap", Image: swapArea(t)},
				}}
			},
			scheme: image.MBR, sector: 512,
			parts: []wantPart{
				{Index: 1, Start: mib, Size: 16 * mib, Type: "Linux filesystem", Bootable: true, FS: "ext4"},
				{Index: 2, Start: 17 * mib, Size: mib, Type: "Linux swap", FS: "swap"},
			},
		},
		{
			name: "mbr4096",
			layout: func(t testing.TB) fixtures.Layout {
				return fixtures.Layout{Scheme: "mbr", SectorSize: 4096, Parts: []fixtures.Part{
					{Type: "linux", Image: bootFS(t)},
					{Type: "linux", Image: rootFS(t)},
				}}
			},
			scheme: image.MBR, sector: 4096,
			parts: []wantPart{
				{Index: 1, Start: mib, Size: 8 * mib, Type: "Linux filesystem", FS: "ext2"},
				{Index: 2, Start: 9 * mib, Size: 16 * mib, Type: "Linux filesystem", FS: "ext4"},
			},
		},
		{
			name: "mbrLogical",
			layout: func(t testing.TB) fixtures.Layout {
				return fixtures.Layout{Scheme: "mbr", Parts: []fixtures.Part{
					{Type: "linux", Image: bootFS(t), Bootable: true},
					{Type: "extended"},
					{Type: "linux", Image: rootFS(t), Logical: true},
					{Type: "swap", Image: swapArea(t), Logical: true},
					{Type: "lvm", Size: 2 * mib},
				}}
			},
			scheme: image.MBR, sector: 512,
			parts: []wantPart{
				{Index: 1, Start: mib, Size: 8 * mib, Type: "Linux filesystem", Bootable: true, FS: "ext2"},
				{Index: 2, Start: 9 * mib, Size: 19 * mib, Type: "Extended"},
				{Index: 3, Start: 28 * mib, Size: 2 * mib, Type: "Linux LVM"},
				{Index: 5, Start: 10 * mib, Size: 16 * mib, Type: "Linux filesystem", Logical: true, FS: "ext4"},
				{Index: 6, Start: 27 * mib, Size: mib, Type: "Linux swap", Logical: true, FS: "swap"},
			},
		},
		{
			name: "bare",
			layout: func(t testing.TB) fixtures.Layout {
				return fixtures.Layout{Scheme: "none", Parts: []fixtures.Part{{Image: rootFS(t)}}}
			},
			scheme: image.None, sector: 512,
			parts: []wantPart{{Index: 1, Start: 0, Size: 16 * mib, Type: "whole disk", FS: "ext4"}},
		},
	}
}

// openDisk opens path with image.Open and reads its table.
func openDisk(t testing.TB, path string) (*image.Image, *image.Table) {
	t.Helper()
	img, err := image.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	tab, err := image.ReadTable(img, img.Size())
	if err != nil {
		t.Fatal(err)
	}
	return img, tab
}

func TestReadTableLayouts(t *testing.T) {
	for _, tt := range layoutTests() {
		t.Run(tt.name, func(t *testing.T) {
			path := fixtures.MustDisk(t, tt.layout(t))
			img, tab := openDisk(t, path)
			if tab.Scheme != tt.scheme || tab.SectorSize != tt.sector {
				t.Errorf("scheme %s/%d, want %s/%d", tab.Scheme, tab.SectorSize, tt.scheme, tt.sector)
			}
			if tt.diskSize != 0 && img.Size() != tt.diskSize {
				t.Errorf("disk size %d, want %d", img.Size(), tt.diskSize)
			}
			checkParts(t, tab, tt.parts)
			checkNotes(t, tab.Notes, tt.notes)
		})
	}
}

func checkParts(t *testing.T, tab *image.Table, want []wantPart) {
	t.Helper()
	if len(tab.Partitions) != len(want) {
		t.Fatalf("%d partitions, want %d: %+v", len(tab.Partitions), len(want), tab.Partitions)
	}
	for i, w := range want {
		p := &tab.Partitions[i]
		got := wantPart{Index: p.Index, Start: p.Start, Size: p.Size, Type: p.Type, Name: p.Name, Logical: p.Logical, Bootable: p.Bootable}
		got.FS = image.Sniff(p, p.Size)
		if got != w {
			t.Errorf("partition %d:\n got %+v\nwant %+v", i, got, w)
		}
		if tab.Scheme == image.GPT && (p.TypeGUID == "" || p.UUID == "") {
			t.Errorf("partition %d: GPT without type GUID or UUID: %+v", p.Index, p)
		}
		if tab.Scheme == image.MBR && !strings.HasPrefix(p.UUID, tab.DiskGUID+"-") {
			t.Errorf("partition %d: MBR PARTUUID %q does not start with the disk signature %q", p.Index, p.UUID, tab.DiskGUID)
		}
	}
}

func checkNotes(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("notes %q, want %d matching %q", got, len(want), want)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("note %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
}

// TestPartitionReadsFilesystem checks that a partition window yields the
// very bytes of the filesystem image copied into it.
func TestPartitionReadsFilesystem(t *testing.T) {
	fsImg := rootFS(t)
	want, err := os.ReadFile(fsImg)
	if err != nil {
		t.Fatal(err)
	}
	path := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "bios-boot", Size: mib}, {Type: "linux", Image: fsImg}}})
	_, tab := openDisk(t, path)
	p := tab.Partitions[1]
	got := make([]byte, len(want))
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			r := p.Open()
			chunk := int64(len(want) / 4)
			_, err := r.ReadAt(got[int64(g)*chunk:int64(g+1)*chunk], int64(g)*chunk)
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != string(want) {
		t.Fatal("partition content differs from the filesystem image")
	}
	if n, err := p.ReadAt(make([]byte, 10), p.Size-5); n != 5 || err == nil {
		t.Errorf("read across the partition end: n=%d err=%v, want 5 and io.EOF", n, err)
	}
	if _, err := p.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
}

func TestDamagedGPT(t *testing.T) {
	for _, ss := range []int{512, 4096} {
		t.Run(fmt.Sprint(ss), func(t *testing.T) { testDamagedGPT(t, ss) })
	}
}

func testDamagedGPT(t *testing.T, ss int) {
	good := fixtures.MustDisk(t, fixtures.Layout{SectorSize: ss, Parts: []fixtures.Part{{Type: "efi", Size: mib}, {Type: "linux", Image: rootFS(t), Name: "root"}}})
	_, ref := openDisk(t, good)
	last := func(b []byte) int { return len(b) - ss }
	tests := []struct {
		name    string
		patch   func(b []byte)
		scheme  image.Scheme
		notes   []string
		err     error  // errors.Is target when the table is unreadable
		errText string // substring of that error
	}{
		{name: "primary header CRC", patch: func(b []byte) { b[ss+24] ^= 0xff },
			notes: []string{"primary GPT unusable (header CRC mismatch at LBA 1); using the backup"}},
		{name: "primary entry array", patch: func(b []byte) { b[2*ss+56] ^= 0x01 },
			notes: []string{"entry array CRC mismatch at LBA 1"}},
		{name: "primary signature", patch: func(b []byte) { copy(b[ss:], "XXXXXXXX") },
			notes: []string{"header signature missing at LBA 1"}},
		{name: "backup header", patch: func(b []byte) { b[last(b)+24] ^= 0xff },
			notes: []string{"backup GPT at LBA", "header CRC mismatch"}},
		{name: "no protective MBR", patch: func(b []byte) { clear(b[:512]) },
			notes: []string{"no protective MBR"}},
		{name: "MBR not protective", patch: func(b []byte) { b[446+4] = 0x83 }, scheme: image.MBR,
			notes: []string{"GPT header at LBA 1 ignored"}},
		{name: "both headers", patch: func(b []byte) { b[ss+24] ^= 0xff; b[last(b)+24] ^= 0xff },
			err: image.ErrChecksum, errText: "GPT header CRC mismatch at LBA 1 and backup unreadable"},
		{name: "both signatures", patch: func(b []byte) { copy(b[ss:], "XXXXXXXX"); copy(b[last(b):], "XXXXXXXX") },
			err: image.ErrFormat, errText: "GPT header signature missing at LBA 1 and backup unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fixtures.MustCorrupt(t, good, tt.patch)
			img, err := image.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			tab, err := image.ReadTable(img, img.Size())
			if tt.err != nil {
				fe, ok := errors.AsType[*image.FormatError](err)
				if !errors.Is(err, tt.err) || !ok || fe.Format != "gpt" || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want a gpt FormatError wrapping %v containing %q", err, tt.err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(tab.Notes, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(joined, n) {
					t.Errorf("notes %q lack %q", tab.Notes, n)
				}
			}
			if tt.scheme != "" {
				if tab.Scheme != tt.scheme {
					t.Errorf("scheme %s, want %s", tab.Scheme, tt.scheme)
				}
				return
			}
			if len(tab.Partitions) != len(ref.Partitions) || tab.DiskGUID != ref.DiskGUID {
				t.Fatalf("got %+v, want the partitions of the undamaged disk", tab)
			}
			for i := range ref.Partitions {
				g, w := tab.Partitions[i], ref.Partitions[i]
				if g.Start != w.Start || g.Size != w.Size || g.UUID != w.UUID || g.Name != w.Name {
					t.Errorf("partition %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}
