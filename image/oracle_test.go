package image_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// oraclePart is a partition as an independent tool reports it, in bytes.
type oraclePart struct {
	Index       int
	Start, Size int64
	Type        string // GPT type GUID, or MBR id as two hex digits
	UUID, Name  string
	Bootable    bool
}

// ours reduces our reading of a table to the fields the oracles report.
func ours(tab *image.Table) []oraclePart {
	var ps []oraclePart
	for _, p := range tab.Partitions {
		o := oraclePart{Index: p.Index, Start: p.Start, Size: p.Size, Type: p.TypeGUID, UUID: p.UUID, Name: p.Name, Bootable: p.Bootable}
		if tab.Scheme == image.MBR {
			o.Type, o.UUID = fmt.Sprintf("%02x", p.MBRType), ""
		}
		ps = append(ps, o)
	}
	return ps
}

// sfdiskParts runs sfdisk --json on path.
func sfdiskParts(t *testing.T, path string) (label, id string, parts []oraclePart) {
	bin, err := fixtures.Tool("sfdisk")
	if err != nil {
		oracleMissing(t, err)
	}
	out, err := exec.Command(bin, "--json", path).Output()
	if err != nil {
		t.Fatalf("sfdisk --json: %v", err)
	}
	var doc struct {
		PartitionTable struct {
			Label, ID  string
			SectorSize int64
			Partitions []struct {
				Node        string
				Start, Size int64
				Type, UUID  string
				Name        string
				Bootable    bool
			}
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("sfdisk --json: %v\n%s", err, out)
	}
	pt := doc.PartitionTable
	for _, p := range pt.Partitions {
		n, err := strconv.Atoi(strings.TrimPrefix(p.Node, path))
		if err != nil {
			t.Fatalf("sfdisk node %q", p.Node)
		}
		typ := strings.ToUpper(p.Type)
		if pt.Label == "dos" {
			id, err := strconv.ParseUint(p.Type, 16, 8)
			if err != nil {
				t.Fatalf("sfdisk type %q", p.Type)
			}
			typ = fmt.Sprintf("%02x", id)
		}
		parts = append(parts, oraclePart{Index: n, Start: p.Start * pt.SectorSize, Size: p.Size * pt.SectorSize,
			Type: typ, UUID: p.UUID, Name: p.Name, Bootable: p.Bootable})
	}
	return pt.Label, pt.ID, parts
}

// sgdiskParts runs sgdisk -p on path (GPT only).
func sgdiskParts(t *testing.T, path string) (guid string, parts []oraclePart) {
	bin, err := fixtures.Tool("sgdisk")
	if err != nil {
		oracleMissing(t, err)
	}
	out, err := exec.Command(bin, "-p", path).Output()
	if err != nil {
		t.Fatalf("sgdisk -p: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	rows := false
	for sc.Scan() {
		line := sc.Text()
		if g, ok := strings.CutPrefix(line, "Disk identifier (GUID): "); ok {
			guid = g
		}
		if strings.HasPrefix(line, "Number") {
			rows = true
			continue
		}
		f := strings.Fields(line)
		if !rows || len(f) < 6 {
			continue
		}
		// Number Start End Size Unit Code [Name...]
		n, _ := strconv.Atoi(f[0])
		start, _ := strconv.ParseInt(f[1], 10, 64)
		end, _ := strconv.ParseInt(f[2], 10, 64)
		parts = append(parts, oraclePart{Index: n, Start: start * 512, Size: (end - start + 1) * 512, Name: strings.Join(f[6:], " ")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return guid, parts
}

// oracleMissing skips (or under CI=true fails) when an oracle is missing.
func oracleMissing(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(err)
	}
	t.Skip(err)
}

// diskfsParts reads path with go-diskfs, which sees no logical partitions.
func diskfsParts(t *testing.T, path string, scheme image.Scheme, ss int) (id string, parts []oraclePart) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch scheme {
	case image.GPT:
		tab, err := gpt.Read(f, ss, ss)
		if err != nil {
			t.Fatalf("go-diskfs: %v", err)
		}
		for _, p := range tab.Partitions {
			if p.Type == gpt.Unused {
				continue
			}
			parts = append(parts, oraclePart{Index: p.Index, Start: int64(p.Start) * int64(ss), Size: int64(p.End-p.Start+1) * int64(ss),
				Type: strings.ToUpper(string(p.Type)), UUID: strings.ToUpper(p.GUID), Name: p.Name, Bootable: p.Attributes&4 != 0})
		}
		return strings.ToUpper(tab.GUID), parts
	case image.MBR:
		tab, err := mbr.Read(f, ss, ss)
		if err != nil {
			t.Fatalf("go-diskfs: %v", err)
		}
		for i, p := range tab.Partitions {
			if p.Type == mbr.Empty {
				continue
			}
			parts = append(parts, oraclePart{Index: i + 1, Start: int64(p.Start) * int64(ss), Size: int64(p.Size) * int64(ss),
				Type: fmt.Sprintf("%02x", byte(p.Type)), Bootable: p.Bootable})
		}
		return tab.UUID(), parts
	}
	return "", nil
}

func comparePartLists(t *testing.T, oracle string, got, want []oraclePart, fields func(*oraclePart)) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d partitions, we read %d:\n%s: %+v\nours: %+v", oracle, len(want), len(got), oracle, want, got)
		return
	}
	for i := range got {
		g := got[i]
		fields(&g)
		if g != want[i] {
			t.Errorf("%s disagrees on partition %d:\n ours %+v\n%s %+v", oracle, got[i].Index, g, oracle, want[i])
		}
	}
}

// TestTableOracles reads every fixture layout with sfdisk --json, sgdisk
// -p and go-diskfs and compares their answers with ReadTable's. sfdisk
// and sgdisk assume 512-byte sectors on a file, so 4 KiB layouts are
// checked against go-diskfs only.
func TestTableOracles(t *testing.T) {
	for _, tt := range layoutTests() {
		t.Run(tt.name, func(t *testing.T) {
			path := fixtures.MustDisk(t, tt.layout(t))
			_, tab := openDisk(t, path)
			mine := ours(tab)
			if tab.Scheme == image.None {
				return
			}
			id, dfs := diskfsParts(t, path, tab.Scheme, tab.SectorSize)
			var primaries []oraclePart
			for _, p := range mine {
				if p.Index <= 4 || tab.Scheme == image.GPT {
					primaries = append(primaries, p)
				}
			}
			comparePartLists(t, "go-diskfs", primaries, dfs, func(*oraclePart) {})
			if tab.Scheme == image.GPT && id != tab.DiskGUID {
				t.Errorf("disk GUID %s, go-diskfs %s", tab.DiskGUID, id)
			}
			if tab.SectorSize != 512 {
				return
			}
			label, sid, sf := sfdiskParts(t, path)
			if want := map[image.Scheme]string{image.GPT: "gpt", image.MBR: "dos"}[tab.Scheme]; label != want {
				t.Errorf("sfdisk label %q, want %q", label, want)
			}
			if tab.Scheme == image.MBR && sid != "0x"+tab.DiskGUID || tab.Scheme == image.GPT && sid != tab.DiskGUID {
				t.Errorf("sfdisk id %s, ours %s", sid, tab.DiskGUID)
			}
			comparePartLists(t, "sfdisk", mine, sf, func(p *oraclePart) {
				if tab.Scheme == image.GPT {
					p.Bootable = false // sfdisk puts GPT attributes in "attrs"
				}
			})
			if tab.Scheme == image.GPT {
				gid, sg := sgdiskParts(t, path)
				if gid != tab.DiskGUID {
					t.Errorf("sgdisk disk GUID %s, ours %s", gid, tab.DiskGUID)
				}
				comparePartLists(t, "sgdisk", mine, sg, func(p *oraclePart) { p.Type, p.UUID, p.Bootable = "", "", false })
			}
		})
	}
}

// TestDamagedGPTOracles breaks the primary GPT header and checks that
// go-diskfs and sfdisk, which also fall back to the backup, read the same
// partitions from it as ReadTable does.
func TestDamagedGPTOracles(t *testing.T) {
	good := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "efi", Size: mib, Name: "esp"}, {Type: "linux", Image: rootFS(t), Name: "root"}}})
	path := fixtures.MustCorrupt(t, good, func(b []byte) { b[512+24] ^= 0xff })
	_, tab := openDisk(t, path)
	if len(tab.Notes) == 0 || !strings.Contains(tab.Notes[0], "using the backup") {
		t.Fatalf("notes %q: the primary was not refused", tab.Notes)
	}
	mine := ours(tab)
	_, dfs := diskfsParts(t, path, image.GPT, 512)
	comparePartLists(t, "go-diskfs", mine, dfs, func(*oraclePart) {})
	_, _, sf := sfdiskParts(t, path)
	comparePartLists(t, "sfdisk", mine, sf, func(p *oraclePart) { p.Bootable = false })
}
