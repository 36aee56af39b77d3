package facts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// An rpm header blob, as the rpm database stores it (rpm lib/header.c):
// the entry count il and the data length dl (big-endian uint32), il
// entries of tag, type, offset into the data and count, then the data.
const (
	rpmHeaderPreface = 8
	rpmHeaderEntry   = 16
	rpmMaxTags       = 0xffff
	rpmMaxData       = 256 << 20

	rpmInt32  = 4
	rpmString = 6

	rpmTagName    = 1000
	rpmTagVersion = 1001
	rpmTagRelease = 1002
	rpmTagEpoch   = 1003
	rpmTagArch    = 1022
)

// errHeader marks an rpm header blob that cannot be read.
var errHeader = errors.New("corrupt rpm header")

// headerPackage reads the name, epoch, version, release and architecture
// of the package an rpm header blob describes. Only those entries are
// read; a missing one is empty (gpg-pubkey entries have no architecture).
func headerPackage(b []byte) (*Package, error) {
	if len(b) < rpmHeaderPreface {
		return nil, fmt.Errorf("%w: %d bytes", errHeader, len(b))
	}
	be := binary.BigEndian
	il, dl := int64(be.Uint32(b)), int64(be.Uint32(b[4:]))
	if il < 1 || il > rpmMaxTags || dl > rpmMaxData {
		return nil, fmt.Errorf("%w: %d entries, %d data bytes", errHeader, il, dl)
	}
	start := rpmHeaderPreface + rpmHeaderEntry*il
	if start+dl > int64(len(b)) {
		return nil, fmt.Errorf("%w: %d entries and %d data bytes in a blob of %d bytes", errHeader, il, dl, len(b))
	}
	data := b[start : start+dl]
	var name, version, release, arch string
	epoch := ""
	for i := range il {
		e := b[rpmHeaderPreface+rpmHeaderEntry*i:]
		tag, typ, off := be.Uint32(e), be.Uint32(e[4:]), int64(int32(be.Uint32(e[8:])))
		var dst *string
		switch tag {
		case rpmTagName:
			dst = &name
		case rpmTagVersion:
			dst = &version
		case rpmTagRelease:
			dst = &release
		case rpmTagArch:
			dst = &arch
		case rpmTagEpoch:
			if typ != rpmInt32 || off < 0 || off+4 > dl {
				return nil, fmt.Errorf("%w: epoch entry of type %d at offset %d", errHeader, typ, off)
			}
			if n := int32(be.Uint32(data[off:])); n != 0 {
				epoch = strconv.Itoa(int(n)) + ":"
			}
			continue
		default:
			continue
		}
		s, err := headerString(data, typ, off)
		if err != nil {
			return nil, fmt.Errorf("%w: tag %d: %v", errHeader, tag, err)
		}
		*dst = s
	}
	return &Package{Name: name, Arch: arch, Version: epoch + version + "-" + release}, nil
}

// headerString reads the NUL-terminated string entry at off in data.
func headerString(data []byte, typ uint32, off int64) (string, error) {
	if typ != rpmString {
		return "", fmt.Errorf("type %d, not a string", typ)
	}
	if off < 0 || off >= int64(len(data)) {
		return "", fmt.Errorf("offset %d outside the %d data bytes", off, len(data))
	}
	n := bytes.IndexByte(data[off:], 0)
	if n < 0 {
		return "", errors.New("unterminated string")
	}
	return string(data[off : off+int64(n)]), nil
}
