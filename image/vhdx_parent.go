package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// openVHDXParent opens the parent of the differencing VHDX src, depth
// parents below the image named, with the confinement of qcow2 backing
// files: only the parent locator's relative path is followed, resolved
// in src's directory and confined to it (no absolute path, no "..", no
// symbolic link out), never for a remote or streamed image. The parent
// must be a VHDX file of the same size whose data write GUID is the
// locator's parent_linkage; the chain may be o.limits.BackingDepth
// parents deep.
func openVHDXParent(src source, p *vhdxParams, o *options, depth int) (*container, error) {
	name := vhdxParentName(p.parent)
	refuse := func(format string, args ...any) error {
		return vhdxError(-1, ErrUnsupported, "differencing disk with parent %q: "+format, append([]any{name}, args...)...)
	}
	switch {
	case depth >= o.limits.BackingDepth:
		return nil, refuse("parent chain deeper than %d files (the backing-depth limit)", o.limits.BackingDepth)
	case src.Dir == "":
		return nil, refuse("the parent of a remote or streamed image is not read")
	case p.parent["relative_path"] == "":
		return nil, refuse("the parent locator has no relative path; only files in the image's own directory are read")
	case p.parent["parent_linkage"] == "":
		return nil, refuse("the parent locator has no parent_linkage to check the parent against")
	}
	realDir, err := filepath.EvalSymlinks(src.Dir)
	if err != nil {
		return nil, refuse("resolving the image's directory: %v", err)
	}
	// Windows separators; a leading ".\" names the image's own directory.
	rel, err := confineBacking(realDir, ".", strings.ReplaceAll(p.parent["relative_path"], `\`, "/"))
	if err != nil {
		if fe, ok := errors.AsType[*FormatError](err); ok {
			return nil, vhdxError(-1, fe.Err, "parent: %s", fe.Reason)
		}
		return nil, err
	}
	root, err := os.OpenRoot(realDir)
	if err != nil {
		return nil, refuse("opening the image's directory: %v", err)
	}
	defer root.Close()
	// O_NONBLOCK: a FIFO planted as the parent must not block the open.
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, refuse("%v", err)
	}
	c, err := openVHDXParentFile(f, filepath.Join(src.Dir, rel), filepath.Join(realDir, filepath.Dir(rel)), p, o, depth)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.Closers = append(c.Closers, f)
	return c, nil
}

// openVHDXParentFile opens f, the parent found at path in directory dir,
// as a VHDX file that must match the child's parameters p.
func openVHDXParentFile(f *os.File, path, dir string, p *vhdxParams, o *options, depth int) (*container, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, vhdxError(-1, ErrUnsupported, "parent %s: %v", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, vhdxError(-1, ErrUnsupported, "parent %s is not a regular file", path)
	}
	magic := make([]byte, len(vhdxMagic))
	if n, _ := f.ReadAt(magic, 0); n < len(magic) || string(magic) != vhdxMagic {
		return nil, vhdxError(0, ErrUnsupported, "parent %s is not a VHDX file", path)
	}
	c, err := openVHDXChain(f, st.Size(), source{Name: path, Dir: dir, File: f}, o, depth+1, p.parent["parent_linkage"])
	if err != nil {
		return nil, err
	}
	if c.Size != p.diskSize {
		closeAll(c)
		return nil, vhdxError(-1, ErrFormat, "parent %s is a %d-byte disk, its child a %d-byte one", path, c.Size, p.diskSize)
	}
	return c, nil
}
