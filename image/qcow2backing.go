package image

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A backingFile is one confined, opened file of a backing chain.
type backingFile struct {
	rel  string   // path relative to the top image's directory
	f    *os.File // opened through the directory's os.Root
	size int64
	hdr  *qcow2Header // nil for a raw file
}

// openBackingChain opens the backing files named by the qcow2 header top
// of an image in the directory dir, each confined to dir: a name must be
// relative and local, and must not reach outside the directory through
// ".." or a symbolic link. Each file's format comes from its magic, never
// from the naming header. The chain may be l.BackingDepth files deep, and
// each header's L1 table l.QCOW2L1Bytes long. The files are returned from
// the top down; on error none stays open.
func openBackingChain(dir string, top *qcow2Header, l Limits) (chain []*backingFile, err error) {
	defer func() {
		if err != nil {
			for _, b := range chain {
				b.f.Close()
			}
			chain = nil
		}
	}()
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, qcow2Error(-1, ErrUnsupported, "resolving the image's directory for backing files: %v", err)
	}
	root, err := os.OpenRoot(realDir)
	if err != nil {
		return nil, qcow2Error(-1, ErrUnsupported, "opening the image's directory for backing files: %v", err)
	}
	defer root.Close()

	name, from, hdr := top.backingName, ".", top
	for hdr != nil && hdr.backingName != "" {
		if len(chain) == l.BackingDepth {
			return chain, qcow2Error(int64(hdr.backingOffset), ErrUnsupported, "backing chain deeper than %d files (the backing-depth limit) at %q", l.BackingDepth, name)
		}
		rel, err := confineBacking(realDir, from, name)
		if err != nil {
			return chain, err
		}
		// O_NONBLOCK: opening a FIFO planted as a backing file must not
		// wait for a writer; it is refused as not regular just below.
		f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return chain, qcow2Error(int64(hdr.backingOffset), ErrUnsupported, "opening backing file %q: %v", name, err)
		}
		b := &backingFile{rel: rel, f: f}
		chain = append(chain, b)
		st, err := f.Stat()
		if err != nil {
			return chain, qcow2Error(-1, ErrUnsupported, "backing file %q: %v", name, err)
		}
		if !st.Mode().IsRegular() {
			return chain, qcow2Error(int64(hdr.backingOffset), ErrUnsupported, "backing file %q is not a regular file", name)
		}
		b.size = st.Size()
		magic := make([]byte, 4)
		if n, _ := f.ReadAt(magic, 0); n == 4 && bytes.Equal(magic, []byte(qcow2Magic)) {
			if b.hdr, err = readQCOW2Header(f, b.size, l.QCOW2L1Bytes); err != nil {
				return chain, fmt.Errorf("backing file %q: %w", rel, err)
			}
		}
		name, from, hdr = b.hdr.backingNameOrEmpty(), filepath.Dir(rel), b.hdr
	}
	return chain, nil
}

// backingNameOrEmpty is h's backing file name, "" for a raw file (nil h).
func (h *qcow2Header) backingNameOrEmpty() string {
	if h == nil {
		return ""
	}
	return h.backingName
}

// confineBacking resolves a backing file name as QEMU does, relative to the
// directory from (itself relative to realDir) of the image naming it, and
// returns it relative to realDir. It refuses absolute names, names that
// leave realDir through "..", and names whose symbolic links lead outside
// realDir, before anything is opened.
func confineBacking(realDir, from, name string) (string, error) {
	refuse := func(why string) error {
		return qcow2Error(-1, ErrUnsupported, "backing file %q %s; only files in the image's own directory are read", name, why)
	}
	if name == "" || strings.ContainsRune(name, 0) {
		return "", refuse("is not a valid name")
	}
	if filepath.IsAbs(name) || strings.Contains(name, "://") || strings.HasPrefix(name, "json:") {
		return "", refuse("is absolute or a protocol")
	}
	rel := filepath.Join(from, name)
	if !filepath.IsLocal(rel) {
		return "", refuse("is outside the image's directory")
	}
	real, err := filepath.EvalSymlinks(filepath.Join(realDir, rel))
	if err != nil {
		return "", qcow2Error(-1, ErrUnsupported, "backing file %q: %v", name, err)
	}
	inner, err := filepath.Rel(realDir, real)
	if err != nil || !filepath.IsLocal(inner) {
		return "", refuse("leads outside the image's directory through a symbolic link")
	}
	return inner, nil
}
