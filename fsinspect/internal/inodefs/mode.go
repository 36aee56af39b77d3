package inodefs

import "io/fs"

// Mode is a Unix inode mode (st_mode): the file type in the top four
// bits, then the setuid, setgid and sticky bits and the permissions.
type Mode uint16

// The file types of a Mode (S_IF*).
const (
	typeMask   = 0xF000
	typeFIFO   = 0x1000
	typeChar   = 0x2000
	typeDir    = 0x4000
	typeBlock  = 0x6000
	typeReg    = 0x8000
	typeLink   = 0xA000
	typeSocket = 0xC000
)

// Type returns the fs.FileMode type bits of m: 0 for a regular file and
// for an invalid type.
func (m Mode) Type() fs.FileMode {
	switch m & typeMask {
	case typeDir:
		return fs.ModeDir
	case typeLink:
		return fs.ModeSymlink
	case typeFIFO:
		return fs.ModeNamedPipe
	case typeSocket:
		return fs.ModeSocket
	case typeChar:
		return fs.ModeDevice | fs.ModeCharDevice
	case typeBlock:
		return fs.ModeDevice
	}
	return 0
}

// FileMode returns m as an fs.FileMode: type, permissions and the
// setuid, setgid and sticky bits.
func (m Mode) FileMode() fs.FileMode {
	fm := m.Type() | fs.FileMode(m&0o777)
	if m&0o4000 != 0 {
		fm |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= fs.ModeSticky
	}
	return fm
}

// Valid reports whether m has one of the seven file types.
func (m Mode) Valid() bool { return m.Type() != 0 || m.IsRegular() }

// IsDir reports whether m is a directory's mode.
func (m Mode) IsDir() bool { return m&typeMask == typeDir }

// IsRegular reports whether m is a regular file's mode.
func (m Mode) IsRegular() bool { return m&typeMask == typeReg }

// IsSymlink reports whether m is a symlink's mode.
func (m Mode) IsSymlink() bool { return m&typeMask == typeLink }

// entryType translates the file type a directory entry records (Linux's
// FT_* numbering, which EXT4_FT_* and XFS_DIR3_FT_* share) to fs.FileMode
// type bits; ok is false for 0 (unknown) and invalid values.
func entryType(t uint8) (m fs.FileMode, ok bool) {
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
