package xfs

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"slices"
	"strings"
)

// maxDirSize bounds the data section of a directory (its entries, below
// the leaf and free index); a larger one fails with ErrUnsupported.
const maxDirSize = 1 << 30

// MaxDirIndexBytes bounds the memory of one parsed directory (see
// direntOverhead): a directory that needs more fails with an error
// wrapping ErrUnsupported. The directory cache holds this much, so every
// directory that can be read is parsed once and then looked up in memory.
const MaxDirIndexBytes = 32 << 20

// direntOverhead is the memory of a parsed entry besides its name: the
// dirent in the slice and the string's allocation rounding.
const direntOverhead = 40

// dirent is one live directory entry.
type dirent struct {
	name string
	ino  uint64
	typ  uint8 // XFS_DIR3_FT_*; 0 when the filesystem records no type
}

// dir is a parsed directory: its entries without "." and "..", sorted by
// name.
type dir struct {
	ents []dirent
}

// find returns the entry called name.
func (d *dir) find(name string) (dirent, bool) {
	i, ok := slices.BinarySearchFunc(d.ents, name, func(e dirent, n string) int { return strings.Compare(e.name, n) })
	if !ok {
		return dirent{}, false
	}
	return d.ents[i], true
}

// cost is the memory the parsed directory holds.
func (d *dir) cost() int {
	n := direntOverhead
	for _, e := range d.ents {
		n += direntOverhead + len(e.name)
	}
	return n
}

// direntType translates an XFS_DIR3_FT_* entry type to fs.FileMode type
// bits; ok is false for 0 (unknown) and invalid values.
func direntType(t uint8) (m fs.FileMode, ok bool) {
	switch t {
	case 1:
		return 0, true
	case 2:
		return fs.ModeDir, true
	case 3:
		return fs.ModeDevice | fs.ModeCharDevice, true
	case 4:
		return fs.ModeDevice, true
	case 5:
		return fs.ModeNamedPipe, true
	case 6:
		return fs.ModeSocket, true
	case 7:
		return fs.ModeSymlink, true
	}
	return 0, false
}

// dirParser collects the entries of one directory within the bounds.
type dirParser struct {
	fsys *FS
	ino  uint64
	ents []dirent
	mem  int
}

// add appends an entry, checking its name and the directory's bounds.
func (p *dirParser) add(name []byte, ino uint64, typ uint8) error {
	if string(name) == "." || string(name) == ".." {
		return nil
	}
	if len(name) == 0 || bytes.IndexByte(name, '/') >= 0 || bytes.IndexByte(name, 0) >= 0 {
		return corruptf("inode %d: directory entry name %q", p.ino, name)
	}
	if len(p.ents) >= p.fsys.maxDirEntries {
		return unsupportedf("inode %d: directory has more than %d entries (the dir-entries limit)", p.ino, p.fsys.maxDirEntries)
	}
	if p.mem += direntOverhead + len(name); p.mem > MaxDirIndexBytes {
		return unsupportedf("inode %d: directory index needs more than %d bytes of memory", p.ino, MaxDirIndexBytes)
	}
	p.ents = append(p.ents, dirent{name: string(name), ino: ino, typ: typ})
	return nil
}

// dir returns the parsed directory in, from the cache or the disk.
func (fsys *FS) dir(in *inode) (*dir, error) {
	if d, ok := fsys.dirs.get(in.ino); ok {
		return d, nil
	}
	p := &dirParser{fsys: fsys, ino: in.ino}
	var err error
	if in.format == fmtLocal {
		err = p.shortform(in.fork[:in.size])
	} else {
		err = fsys.blockDir(in, p)
	}
	if err != nil {
		return nil, err
	}
	ents := p.ents
	slices.SortFunc(ents, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(ents); i++ {
		if ents[i].name == ents[i-1].name {
			return nil, corruptf("inode %d: directory has two entries named %q", in.ino, ents[i].name)
		}
	}
	d := &dir{ents: ents}
	fsys.dirs.add(in.ino, d, d.cost())
	return d, nil
}

// shortform parses a directory held in the inode: a header (entry count,
// count of 8-byte inode numbers, parent), then entries of name length,
// offset tag, name, file type (with ftype) and inode number.
func (p *dirParser) shortform(b []byte) error {
	if len(b) < 2 {
		return corruptf("inode %d: short-form directory of %d bytes", p.ino, len(b))
	}
	count, inoSize := int(b[0]), 4
	if b[1] != 0 {
		inoSize = 8
	}
	pos := 2 + inoSize
	typed := 0
	if p.fsys.g.ftype {
		typed = 1
	}
	for i := range count {
		if pos+3 > len(b) {
			return corruptf("inode %d: short-form entry %d runs past the fork", p.ino, i)
		}
		nameLen := int(b[pos])
		name := pos + 3
		end := name + nameLen + typed + inoSize
		if end > len(b) {
			return corruptf("inode %d: short-form entry %d runs past the fork", p.ino, i)
		}
		var typ uint8
		if typed == 1 {
			typ = b[name+nameLen]
		}
		ino := uint64(binary.BigEndian.Uint32(b[end-4:]))
		if inoSize == 8 {
			ino = binary.BigEndian.Uint64(b[end-8:])
		}
		if err := p.add(b[name:name+nameLen], ino, typ); err != nil {
			return err
		}
		pos = end
	}
	return nil
}
