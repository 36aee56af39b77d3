package ext4

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// In-inode extended attributes, after the extra inode fields.
const (
	xattrMagic       = 0xEA020000
	xattrIndexSystem = 7
	xattrEntrySize   = 16
)

// inlineXattr returns the value of the system.data extended attribute in
// body, the in-inode xattr area that follows the extra inode fields, or
// nil when there is none. An inline_data inode need not have one when
// its data fits in i_block.
func inlineXattr(body []byte) ([]byte, error) {
	le := binary.LittleEndian
	if len(body) < 4 || le.Uint32(body) != xattrMagic {
		return nil, nil
	}
	ents := body[4:]
	for off := 0; off+xattrEntrySize <= len(ents) && le.Uint32(ents[off:]) != 0; {
		nameLen := int(ents[off])
		index := ents[off+1]
		valOff := int(le.Uint16(ents[off+2:]))
		valInum := le.Uint32(ents[off+4:])
		valSize := int(le.Uint32(ents[off+8:]))
		if off+xattrEntrySize+nameLen > len(ents) {
			return nil, errors.New("xattr name runs past the inode")
		}
		name := string(ents[off+xattrEntrySize : off+xattrEntrySize+nameLen])
		if index == xattrIndexSystem && name == "data" {
			if valInum != 0 {
				return nil, errors.New("system.data stored in an xattr inode")
			}
			if valSize < 0 || valOff+valSize > len(ents) {
				return nil, fmt.Errorf("system.data value at %d (%d bytes) runs past the inode", valOff, valSize)
			}
			return ents[valOff : valOff+valSize : valOff+valSize], nil
		}
		off += (xattrEntrySize + nameLen + 3) &^ 3
	}
	return nil, nil
}
