package ext4

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// maxDirSize bounds a directory's data: a larger one fails (holes
// included), and so does one larger than the filesystem. The number of
// entries is bounded by FS.maxDirEntries, the memory of its index by
// MaxDirIndexBytes.
const maxDirSize = 1 << 30

// MaxDirIndexBytes bounds the memory of one parsed directory (40 bytes
// an entry besides its name): a directory that needs more fails with an
// error wrapping ErrUnsupported. The directory cache holds this much, so
// every directory that can be read is parsed once and then looked up in
// memory.
const MaxDirIndexBytes = 32 << 20

// dirReadBlocks is how many consecutive directory blocks one read fetches.
const dirReadBlocks = 32

// dir returns the parsed directory in, from the cache or the disk.
func (fsys *FS) dir(in *inode) (*inodefs.Dir, error) {
	if d, ok := fsys.dirs.Get(in.ino); ok {
		return d, nil
	}
	if in.flags&flagEncrypt != 0 {
		return nil, unsupportedf("inode %d: encrypted directory", in.ino)
	}
	var ents []inodefs.Entry
	var err error
	if in.flags&flagInlineData != 0 {
		ents, err = fsys.inlineDir(in)
	} else {
		ents, err = fsys.blockDir(in)
	}
	if err != nil {
		return nil, err
	}
	d, err := inodefs.NewDir(ents)
	if err != nil {
		return nil, corruptf("inode %d: %v", in.ino, err)
	}
	fsys.dirs.Add(in.ino, d, d.Cost())
	return d, nil
}

// blockDir reads the entries of a directory stored in blocks. Blocks of
// an htree directory are read linearly: its index blocks look like empty
// entries spanning the block.
func (fsys *FS) blockDir(in *inode) ([]inodefs.Entry, error) {
	bs := fsys.g.blockSize
	// A directory cannot be larger than the filesystem holding it.
	if in.size%bs != 0 || in.size > maxDirSize || uint64(in.size/bs) > fsys.g.blocks {
		return nil, corruptf("inode %d: directory size %d", in.ino, in.size)
	}
	var ents []inodefs.Entry
	var size int
	var c runCache
	nblocks := uint64(in.size / bs)
	var buf []byte
	fetched := int64(0) // how far the runs were prefetched side by side
	for lblk := uint64(0); lblk < nblocks; {
		r, err := fsys.mapCached(in, &c, lblk)
		if err != nil {
			return nil, err
		}
		if r.phys == 0 { // a hole holds no entries
			lblk += min(r.n, nblocks-lblk)
			continue
		}
		k := min(r.n, nblocks-lblk, dirReadBlocks)
		if pos := int64(lblk) * bs; k < nblocks-lblk && pos >= fetched {
			// The directory goes on past this read: fetch its next
			// runs (a window at a time) side by side rather than one
			// after another.
			fetched = pos + inodefs.ReadAheadMax
			fsys.prefetch(in, &c, pos, fetched)
		}
		// mapBlock checked that the run lies inside the filesystem.
		buf = slices.Grow(buf[:0], int(k)*int(bs))[:int(k)*int(bs)]
		if err := readFull(fsys.r, buf, int64(r.phys)*bs); err != nil {
			return nil, fmt.Errorf("inode %d: directory block %d: %w", in.ino, lblk, err)
		}
		for off := 0; off < len(buf); off += int(bs) {
			if ents, err = fsys.parseDirBlock(in.ino, buf[off:off+int(bs)], ents, &size); err != nil {
				return nil, err
			}
		}
		lblk += k
	}
	return ents, nil
}

// inlineDir reads the entries of an inline_data directory: the parent's
// inode number in the first 4 bytes of i_block, entries in the other 56,
// and more entries in the system.data xattr value.
func (fsys *FS) inlineDir(in *inode) ([]inodefs.Entry, error) {
	var size int
	ents, err := fsys.parseDirBlock(in.ino, in.block[4:], nil, &size)
	if err != nil || len(in.inline) == 0 {
		return ents, err
	}
	return fsys.parseDirBlock(in.ino, in.inline, ents, &size)
}

// parseDirBlock appends the live entries of the directory block b (or an
// inline region) to ents, adding their memory to *mem. Entries must tile
// b exactly.
func (fsys *FS) parseDirBlock(ino uint32, b []byte, ents []inodefs.Entry, mem *int) ([]inodefs.Entry, error) {
	le := binary.LittleEndian
	filetype := fsys.g.incompat&incompatFiletype != 0
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			return nil, corruptf("inode %d: directory entry header at byte %d runs past the block", ino, off)
		}
		e := b[off:]
		child := le.Uint32(e)
		recLen := int(le.Uint16(e[4:]))
		if len(b) == 65536 {
			recLen = recLen&0xFFFC | (recLen&3)<<16
			if recLen == 0 || recLen == 0xFFFF {
				recLen = 65536
			}
		}
		nameLen, typ := int(e[6]), e[7]
		if !filetype {
			nameLen |= int(typ) << 8
			typ = 0
		}
		if recLen < 8 || recLen%4 != 0 || recLen > len(b)-off || 8+nameLen > recLen {
			return nil, corruptf("inode %d: directory entry at byte %d: rec_len %d, name_len %d in %d bytes", ino, off, recLen, nameLen, len(b))
		}
		off += recLen
		if child == 0 {
			continue
		}
		name := e[8 : 8+nameLen]
		if string(name) == "." || string(name) == ".." {
			continue
		}
		if nameLen == 0 || bytes.IndexByte(name, '/') >= 0 || bytes.IndexByte(name, 0) >= 0 {
			return nil, corruptf("inode %d: directory entry name %q", ino, name)
		}
		if child > fsys.g.inodesCount {
			return nil, corruptf("inode %d: directory entry %q refers to inode %d of %d", ino, name, child, fsys.g.inodesCount)
		}
		if len(ents) >= fsys.maxDirEntries {
			return nil, unsupportedf("inode %d: directory has more than %d entries (the dir-entries limit)", ino, fsys.maxDirEntries)
		}
		if *mem += inodefs.EntryOverhead + nameLen; *mem > MaxDirIndexBytes {
			return nil, unsupportedf("inode %d: directory index needs more than %d bytes of memory", ino, MaxDirIndexBytes)
		}
		ents = append(ents, inodefs.Entry{Name: string(name), Ino: uint64(child), Type: typ})
	}
	return ents, nil
}
