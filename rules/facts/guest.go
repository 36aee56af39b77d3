package facts

import (
	"errors"
	"io/fs"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// Reading guest files the way every fact (and rule) must: capped reads,
// and guest facts (missing, dangling, loop) told apart from image faults.

// Read caps.
const (
	CapConfig     = 1 << 20   // key, config, script and history files
	capDpkgStatus = 64 << 20  // /var/lib/dpkg/status, streamed
	capIndex      = 256 << 20 // one decompressed package index, streamed
	capIndexFile  = 128 << 20 // one package index file as stored, read whole
	CapRPMDB      = 512 << 20 // one rpm database

	// maxPackages bounds the packages of one database: Debian's whole
	// archive holds under 70,000 per architecture, and each costs a few
	// hundred bytes in memory.
	maxPackages = 100000
)

// Stat stats name in the guest, following links. A guest fact
// (missing, dangling, loop, not a directory) gives a nil FileInfo and no
// error; anything else is an image fault.
func Stat(g *fsinspect.Guest, name string) (fs.FileInfo, error) {
	if g == nil {
		return nil, ErrNoGuest
	}
	fi, err := g.Stat(name)
	if err != nil {
		if fsinspect.IsFact(err) {
			return nil, nil
		}
		return nil, err
	}
	return fi, nil
}

// Lstat is Stat without following a final symlink.
func Lstat(g *fsinspect.Guest, name string) (fs.FileInfo, error) {
	if g == nil {
		return nil, ErrNoGuest
	}
	fi, err := g.Lstat(name)
	if err != nil {
		if fsinspect.IsFact(err) {
			return nil, nil
		}
		return nil, err
	}
	return fi, nil
}

// IsRegular is the shell's -f: a regular file after resolution in the guest.
func IsRegular(g *fsinspect.Guest, name string) (bool, error) {
	fi, err := Stat(g, name)
	return fi != nil && fi.Mode().IsRegular(), err
}

// IsDir is the shell's -d: a directory after resolution in the guest.
func IsDir(g *fsinspect.Guest, name string) (bool, error) {
	fi, err := Stat(g, name)
	return fi != nil && fi.IsDir(), err
}

// ReadIfPresent reads a guest file of at most max bytes. A missing file (or
// any other guest fact), or a directory where a file was expected, gives
// nil data and no error; a fault, including a file over the cap, is an error.
func ReadIfPresent(g *fsinspect.Guest, name string, max int64) ([]byte, error) {
	if g == nil {
		return nil, ErrNoGuest
	}
	b, err := g.ReadFileLimit(name, max)
	if err != nil {
		if !errors.Is(err, fsinspect.ErrTooLarge) && fsinspect.IsFact(err) {
			return nil, nil
		}
		if fi, serr := g.Stat(name); serr == nil && fi.IsDir() {
			return nil, nil
		}
		return nil, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// ReadDir lists a guest directory. A missing directory (or any other
// guest fact) gives no entries and no error.
func ReadDir(g *fsinspect.Guest, name string) ([]fs.DirEntry, error) {
	if g == nil {
		return nil, ErrNoGuest
	}
	ents, err := g.ReadDir(name)
	if err != nil {
		if fsinspect.IsFact(err) {
			return nil, nil
		}
		return nil, err
	}
	return ents, nil
}

// IgnoreFact drops a guest-fact error and keeps a fault.
func IgnoreFact(err error) error {
	if fsinspect.IsFact(err) {
		return nil
	}
	return err
}
