package xfs

import (
	"bytes"
	"encoding/binary"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// maxDirSize bounds the data section of a directory (its entries, below
// the leaf and free index); a larger one fails with ErrUnsupported.
const maxDirSize = 1 << 30

// MaxDirIndexBytes bounds the memory of one parsed directory (40 bytes
// an entry besides its name): a directory that needs more fails with an
// error wrapping ErrUnsupported. The directory cache holds this much, so
// every directory that can be read is parsed once and then looked up in
// memory.
const MaxDirIndexBytes = 32 << 20

// dirParser collects the entries of one directory within the bounds.
type dirParser struct {
	fsys *FS
	ino  uint64
	ents []inodefs.Entry
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
	if p.mem += inodefs.EntryOverhead + len(name); p.mem > MaxDirIndexBytes {
		return unsupportedf("inode %d: directory index needs more than %d bytes of memory", p.ino, MaxDirIndexBytes)
	}
	p.ents = append(p.ents, inodefs.Entry{Name: string(name), Ino: ino, Type: typ})
	return nil
}

// dir returns the parsed directory in, from the cache or the disk.
func (fsys *FS) dir(in *inode) (*inodefs.Dir, error) {
	if d, ok := fsys.dirs.Get(in.ino); ok {
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
	d, err := inodefs.NewDir(p.ents)
	if err != nil {
		return nil, corruptf("inode %d: %v", in.ino, err)
	}
	fsys.dirs.Add(in.ino, d, d.Cost())
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
