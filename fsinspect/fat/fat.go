// Package fat reads FAT12, FAT16 and FAT32 filesystems read-only, enough
// to list directories and stat files by path: what imgcheck needs of an
// EFI System Partition. Long (VFAT) names are read; names compare
// case-insensitively, as on FAT. Every count read from the disk is bounded
// by the size of the filesystem before anything is allocated.
package fat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf16"
)

// ErrCorrupt is wrapped by the errors of a damaged filesystem.
var ErrCorrupt = errors.New("fat: corrupt filesystem")

func corruptf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, a...)...)
}

// FS is an opened FAT filesystem.
type FS struct {
	r          io.ReaderAt
	size       int64
	kind       int   // 12, 16 or 32
	sector     int64 // bytes per sector
	cluster    int64 // bytes per cluster
	fatStart   int64 // byte offset of the first FAT
	rootStart  int64 // FAT12/16: byte offset of the fixed root directory
	rootSize   int64 // FAT12/16: its size in bytes
	rootClus   uint32
	dataStart  int64  // byte offset of cluster 2
	clusters   uint32 // number of data clusters
	maxEntries int
	volumeID   string // "ABCD-1234", "" when the boot sector has none
	label      string
}

// Entry is one directory entry.
type Entry struct {
	Name  string // the long name when there is one, else the 8.3 name
	Dir   bool
	Size  int64
	first uint32 // first cluster
}

// maxDirEntries bounds one directory (FAT's own limit is 65536 entries).
const maxDirEntries = 65536

// New opens the FAT filesystem held in the first size bytes of r.
func New(r io.ReaderAt, size int64) (*FS, error) {
	var b [512]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return nil, fmt.Errorf("fat: boot sector: %w", err)
	}
	le := binary.LittleEndian
	f := &FS{r: r, size: size, maxEntries: maxDirEntries}
	bps := int64(le.Uint16(b[11:]))
	spc := int64(b[13])
	reserved := int64(le.Uint16(b[14:]))
	nfats := int64(b[16])
	rootEnts := int64(le.Uint16(b[17:]))
	total := int64(le.Uint16(b[19:]))
	fatSz := int64(le.Uint16(b[22:]))
	if total == 0 {
		total = int64(le.Uint32(b[32:]))
	}
	if fatSz == 0 {
		fatSz = int64(le.Uint32(b[36:]))
		f.rootClus = le.Uint32(b[44:])
	}
	switch {
	case b[510] != 0x55 || b[511] != 0xAA:
		return nil, corruptf("boot sector signature missing")
	case bps != 512 && bps != 1024 && bps != 2048 && bps != 4096:
		return nil, corruptf("%d bytes per sector", bps)
	case spc == 0 || spc&(spc-1) != 0:
		return nil, corruptf("%d sectors per cluster", spc)
	case reserved == 0 || nfats == 0 || fatSz == 0:
		return nil, corruptf("reserved sectors %d, %d FATs of %d sectors", reserved, nfats, fatSz)
	case total*bps > size:
		return nil, corruptf("%d sectors of %d bytes, but only %d bytes (truncated?)", total, bps, size)
	}
	f.sector, f.cluster = bps, spc*bps
	f.fatStart = reserved * bps
	f.rootStart = f.fatStart + nfats*fatSz*bps
	f.rootSize = rootEnts * 32
	f.dataStart = f.rootStart + (f.rootSize+bps-1)/bps*bps
	if f.dataStart >= total*bps {
		return nil, corruptf("no data area (%d sectors in all)", total)
	}
	f.clusters = uint32((total*bps - f.dataStart) / f.cluster)
	// The FAT type follows from the cluster count alone (Microsoft's spec).
	switch {
	case f.clusters < 4085:
		f.kind = 12
	case f.clusters < 65525:
		f.kind = 16
	default:
		f.kind = 32
	}
	if f.kind == 32 && (rootEnts != 0 || f.rootClus < 2) {
		return nil, corruptf("FAT32 with a fixed root directory or root cluster %d", f.rootClus)
	}
	if f.kind != 32 && rootEnts == 0 {
		return nil, corruptf("FAT%d without a root directory", f.kind)
	}
	if fatBytes := fatSz * bps; int64(f.clusters+2)*int64(f.kind)/8 > fatBytes {
		return nil, corruptf("FAT of %d bytes too small for %d clusters", fatBytes, f.clusters)
	}
	f.volumeID, f.label = identity(b[:], f.kind)
	return f, nil
}

// identity reads the volume serial number and label of the extended boot
// record, as blkid shows them ("ABCD-1234"; a label of "NO NAME" is none).
func identity(b []byte, kind int) (id, label string) {
	ext := 36 // FAT12/16: the extended record follows the BPB
	if kind == 32 {
		ext = 64
	}
	switch b[ext+2] {
	case 0x29:
		label = strings.TrimRight(string(b[ext+7:ext+18]), " ")
		if label == "NO NAME" {
			label = ""
		}
		fallthrough
	case 0x28:
		v := binary.LittleEndian.Uint32(b[ext+3:])
		id = fmt.Sprintf("%04X-%04X", v>>16, v&0xFFFF)
	}
	return id, label
}

// VolumeID is the volume serial number as blkid names it ("ABCD-1234"),
// or "" when the boot sector records none.
func (f *FS) VolumeID() string { return f.volumeID }

// Label is the volume label of the boot sector, or "".
func (f *FS) Label() string { return f.label }

// Size is the filesystem's size in bytes.
func (f *FS) Size() int64 { return f.dataStart + int64(f.clusters)*f.cluster }

// Type names the FAT variant: "FAT12", "FAT16" or "FAT32".
func (f *FS) Type() string { return fmt.Sprintf("FAT%d", f.kind) }

// next returns the FAT entry of cluster c: the next cluster of a chain.
func (f *FS) next(c uint32) (uint32, error) {
	var b [4]byte
	switch f.kind {
	case 12:
		off := f.fatStart + int64(c)*3/2
		if _, err := f.r.ReadAt(b[:2], off); err != nil {
			return 0, err
		}
		v := uint32(binary.LittleEndian.Uint16(b[:]))
		if c&1 == 1 {
			return v >> 4, nil
		}
		return v & 0xFFF, nil
	case 16:
		if _, err := f.r.ReadAt(b[:2], f.fatStart+int64(c)*2); err != nil {
			return 0, err
		}
		return uint32(binary.LittleEndian.Uint16(b[:])), nil
	}
	if _, err := f.r.ReadAt(b[:], f.fatStart+int64(c)*4); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]) & 0x0FFFFFFF, nil
}

// endOfChain reports whether a FAT entry ends a chain.
func (f *FS) endOfChain(v uint32) bool {
	switch f.kind {
	case 12:
		return v >= 0xFF8
	case 16:
		return v >= 0xFFF8
	}
	return v >= 0x0FFFFFF8
}

// readChain reads the clusters of the chain starting at first, at most
// limit bytes. A loop or a cluster outside the data area is corruption.
func (f *FS) readChain(first uint32, limit int64) ([]byte, error) {
	var out []byte
	c := first
	for steps := uint32(0); ; steps++ {
		if c < 2 || c >= f.clusters+2 || steps > f.clusters {
			return nil, corruptf("cluster chain from %d reaches cluster %d", first, c)
		}
		n := min(f.cluster, limit-int64(len(out)))
		buf := make([]byte, n)
		if _, err := f.r.ReadAt(buf, f.dataStart+int64(c-2)*f.cluster); err != nil {
			return nil, err
		}
		out = append(out, buf...)
		if int64(len(out)) >= limit {
			return out, nil
		}
		v, err := f.next(c)
		if err != nil {
			return nil, err
		}
		if f.endOfChain(v) {
			return out, nil
		}
		c = v
	}
}

// readDirData returns the raw entries of the directory whose first
// cluster is c (0: the root).
func (f *FS) readDirData(c uint32) ([]byte, error) {
	if c == 0 && f.kind != 32 {
		b := make([]byte, f.rootSize)
		if _, err := f.r.ReadAt(b, f.rootStart); err != nil {
			return nil, err
		}
		return b, nil
	}
	if c == 0 {
		c = f.rootClus
	}
	return f.readChain(c, int64(f.maxEntries)*32)
}

// entries decodes a directory's raw entries, long names included.
func entries(b []byte) []Entry {
	var out []Entry
	var long []uint16
	var sum byte
	for i := 0; i+32 <= len(b); i += 32 {
		e := b[i : i+32]
		switch {
		case e[0] == 0:
			return out
		case e[0] == 0xE5:
			long = nil
			continue
		case e[11]&0x3F == 0x0F: // a long-name slot, last one first
			if e[0]&0x40 != 0 {
				long, sum = nil, e[13]
			}
			var part []uint16
			for _, r := range [][2]int{{1, 11}, {14, 26}, {28, 32}} {
				for j := r[0]; j < r[1]; j += 2 {
					part = append(part, binary.LittleEndian.Uint16(e[j:]))
				}
			}
			long = append(part, long...)
			continue
		case e[11]&0x08 != 0: // the volume label
			long = nil
			continue
		}
		name := shortName(e)
		if long != nil && checksum(e[:11]) == sum {
			if k := indexOf(long, 0); k >= 0 {
				long = long[:k]
			}
			name = string(utf16.Decode(long))
		}
		long = nil
		if name == "." || name == ".." {
			continue
		}
		first := uint32(binary.LittleEndian.Uint16(e[26:])) | uint32(binary.LittleEndian.Uint16(e[20:]))<<16
		out = append(out, Entry{Name: name, Dir: e[11]&0x10 != 0, Size: int64(binary.LittleEndian.Uint32(e[28:])), first: first})
	}
	return out
}

func indexOf(s []uint16, v uint16) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// shortName is the 8.3 name of an entry, lower-cased where Windows NT's
// case flags say so. Its bytes are taken as ASCII: the OEM code page of
// a non-ASCII short name is not decoded (an ESP's names are ASCII, and a
// non-ASCII name normally has a long name too).
func shortName(e []byte) string {
	base := strings.TrimRight(string(e[0:8]), " ")
	ext := strings.TrimRight(string(e[8:11]), " ")
	if base != "" && base[0] == 0x05 {
		base = "\xE5" + base[1:]
	}
	if e[12]&0x08 != 0 {
		base = strings.ToLower(base)
	}
	if e[12]&0x10 != 0 {
		ext = strings.ToLower(ext)
	}
	if ext == "" {
		return base
	}
	return base + "." + ext
}

// checksum is the short name's checksum that its long-name slots carry.
func checksum(name []byte) byte {
	var s byte
	for _, c := range name {
		s = (s>>1 | s<<7) + c
	}
	return s
}

// walk returns the entry at the slash-separated path name ("" or "." is
// the root, which has first cluster 0).
func (f *FS) walk(name string) (Entry, error) {
	cur := Entry{Name: "/", Dir: true}
	name = strings.Trim(name, "/")
	if name == "" || name == "." {
		return cur, nil
	}
	for _, el := range strings.Split(name, "/") {
		if !cur.Dir {
			return Entry{}, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		ents, err := f.List(cur)
		if err != nil {
			return Entry{}, err
		}
		found := false
		for _, e := range ents {
			if strings.EqualFold(e.Name, el) {
				cur, found = e, true
				break
			}
		}
		if !found {
			return Entry{}, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
	}
	return cur, nil
}

// List returns the entries of the directory d, in on-disk order.
func (f *FS) List(d Entry) ([]Entry, error) {
	if !d.Dir {
		return nil, errors.New("not a directory")
	}
	b, err := f.readDirData(d.first)
	if err != nil {
		return nil, err
	}
	return entries(b), nil
}

// ReadDir lists the directory at name, in on-disk order.
func (f *FS) ReadDir(name string) ([]Entry, error) {
	d, err := f.walk(name)
	if err != nil {
		return nil, err
	}
	ents, err := f.List(d)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return ents, nil
}

// Stat returns the entry at name; a missing one is an error wrapping
// fs.ErrNotExist.
func (f *FS) Stat(name string) (Entry, error) { return f.walk(name) }

// ReadFile returns the contents of the file e, which must be at most
// limit bytes long. A chain shorter than the file's size is corruption.
func (f *FS) ReadFile(e Entry, limit int64) ([]byte, error) {
	switch {
	case e.Dir:
		return nil, errors.New("is a directory")
	case e.Size > limit:
		return nil, fmt.Errorf("file of %d bytes exceeds the read cap of %d", e.Size, limit)
	case e.Size == 0:
		return nil, nil
	}
	b, err := f.readChain(e.first, e.Size)
	if err == nil && int64(len(b)) < e.Size {
		err = corruptf("file %q of %d bytes has a chain of %d", e.Name, e.Size, len(b))
	}
	return b, err
}
