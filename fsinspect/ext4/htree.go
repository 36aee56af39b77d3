package ext4

import (
	"encoding/binary"
	"errors"

	"github.com/imgcheck/imgcheck/fsinspect/internal/inodefs"
)

// htreeMinBlocks is the directory size, in blocks, from which a lookup
// probes the htree index instead of reading the whole directory.
const htreeMinBlocks = 4

// errNoProbe says an htree probe could not answer; the caller reads the
// directory linearly, which also judges whether it is corrupt.
var errNoProbe = errors.New("htree probe inconclusive")

// htreeFind looks name up in the hash-indexed directory in, reading only
// the index blocks on the hash's path and one leaf block. It answers
// only when it finds the name: a miss may be a hash collision continued
// in the next leaf, an index it does not understand or a corrupt one, and
// gives errNoProbe.
func (fsys *FS) htreeFind(in *inode, name string) (inodefs.Entry, error) {
	g := &fsys.g
	bs := g.blockSize
	if in.flags&flagIndex == 0 || g.compat&compatDirIndex == 0 || in.flags&(flagInlineData|flagEncrypt|flagCasefold) != 0 ||
		in.size%bs != 0 || in.size/bs < htreeMinBlocks {
		return inodefs.Entry{}, errNoProbe
	}
	le := binary.LittleEndian
	buf := make([]byte, bs)
	var c runCache
	if err := fsys.readDirBlock(in, &c, 0, buf); err != nil {
		return inodefs.Entry{}, errNoProbe
	}
	// dx_root: "." (12 bytes), ".." spanning the rest of the block, then
	// dx_root_info at byte 24 and the index entries.
	if le.Uint32(buf[24:]) != 0 || buf[29] != 8 || buf[30] > 2 {
		return inodefs.Entry{}, errNoProbe
	}
	version := int(buf[28])
	if version <= hashTEA && g.hashUnsigned {
		version += hashUnsigned
	}
	hash, ok := dirHash([]byte(name), version, g.hashSeed)
	if !ok {
		return inodefs.Entry{}, errNoProbe
	}
	levels := int(buf[30])
	off := 32
	for level := 0; ; level++ {
		limit, count := int(le.Uint16(buf[off:])), int(le.Uint16(buf[off+2:]))
		if count == 0 || count > limit || off+8*limit > len(buf) {
			return inodefs.Entry{}, errNoProbe
		}
		// Entry 0 holds the count and limit where a hash would be; it
		// covers the hashes below entry 1's.
		i := 0
		for i+1 < count && le.Uint32(buf[off+8*(i+1):]) <= hash {
			i++
		}
		lblk := uint64(le.Uint32(buf[off+8*i+4:]) & 0x0fffffff)
		if lblk == 0 || lblk >= uint64(in.size/bs) {
			return inodefs.Entry{}, errNoProbe
		}
		if err := fsys.readDirBlock(in, &c, lblk, buf); err != nil {
			return inodefs.Entry{}, errNoProbe
		}
		if level == levels {
			break
		}
		// An interior node: an empty entry spanning the block, then the
		// count and limit at byte 8.
		if le.Uint32(buf) != 0 {
			return inodefs.Entry{}, errNoProbe
		}
		off = 8
	}
	var mem int
	ents, err := fsys.parseDirBlock(in.ino, buf, nil, &mem)
	if err != nil {
		return inodefs.Entry{}, errNoProbe
	}
	for _, e := range ents {
		if e.Name == name {
			return e, nil
		}
	}
	return inodefs.Entry{}, errNoProbe
}

// readDirBlock reads logical block lblk of directory in into buf,
// mapping it through c.
func (fsys *FS) readDirBlock(in *inode, c *runCache, lblk uint64, buf []byte) error {
	r, err := fsys.mapCached(in, c, lblk)
	if err != nil {
		return err
	}
	if r.phys == 0 {
		return corruptf("inode %d: directory block %d is a hole", in.ino, lblk)
	}
	return fsys.readBlock(buf, r.phys)
}
