package fsinspect

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Guest is the read-only view of a guest filesystem tree: an io/fs file
// system rooted at the guest's "/", whose names are fs.ValidPath names
// ("etc/passwd"). Every symlink is resolved inside the guest (absolute
// targets restart at the guest root, ".." stops there, 40 hops (see
// WithMaxHops) give ErrLoop), and the host is never read. Other backends may be attached at
// mount points. A Guest is safe for concurrent use.
type Guest struct {
	mu     sync.RWMutex
	root   Backend
	mounts []Mount // below the root, sorted by Point
	err    error   // sticky error from a nil root or a bad option
	stats  func() Stats
	set    settings        // set by the Options
	dirs   dirCache        // link-free directories resolve found
	warm   *sync.WaitGroup // OpenImage's read-ahead (WithWarm); nil without
}

// Mount attaches a Backend at a guest directory. Point is a guest path
// ("var", "/var" or "var/" name the same point).
type Mount struct {
	Point string
	FS    Backend
}

// Option configures a Guest.
type Option func(*Guest)

// WithMounts attaches backends at mount points, as (*Guest).Mount does. An
// invalid mount point makes every method of the Guest fail.
func WithMounts(m ...Mount) Option {
	return func(g *Guest) {
		for _, mt := range m {
			if err := g.Mount(mt.Point, mt.FS); err != nil && g.err == nil {
				g.err = err
			}
		}
	}
}

// Interfaces a Guest implements.
var (
	_ fs.StatFS     = (*Guest)(nil)
	_ fs.ReadDirFS  = (*Guest)(nil)
	_ fs.ReadFileFS = (*Guest)(nil)
	_ fs.ReadLinkFS = (*Guest)(nil)
)

// NewGuest returns the guest view of root, with the options applied. A
// nil root makes every method fail.
func NewGuest(root Backend, opts ...Option) *Guest {
	g := &Guest{root: root, set: defaultSettings()}
	if root == nil {
		g.err = errors.New("fsinspect: nil root backend")
	}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Mount attaches b at point, hiding what lies below point in the backend
// that held it; mounting at "/" replaces the root. A later mount at the
// same point replaces the earlier one. The point's own symlinks are not
// resolved: callers pass a resolved path (see Resolve).
func (g *Guest) Mount(point string, b Backend) error {
	p, err := cleanPoint(point)
	if err != nil {
		return err
	}
	if b == nil {
		return &fs.PathError{Op: "mount", Path: point, Err: errors.New("nil backend")}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.dirs.reset()
	if p == "." {
		g.root = b
		return nil
	}
	i, found := slices.BinarySearchFunc(g.mounts, p, comparePoint)
	if found {
		g.mounts[i].FS = b
	} else {
		g.mounts = slices.Insert(g.mounts, i, Mount{Point: p, FS: b})
	}
	return nil
}

// Mounts returns the mount points below the root, sorted.
func (g *Guest) Mounts() []Mount {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return slices.Clone(g.mounts)
}

// comparePoint orders mounts by point. A mount point sorts before every
// path below it, so the deepest mount holding a path is the last match.
func comparePoint(m Mount, p string) int { return strings.Compare(m.Point, p) }

// cleanPoint turns "/var/", "var" or "/" into a ValidPath name.
func cleanPoint(point string) (string, error) {
	if !utf8.ValidString(point) || point == "" {
		return "", &fs.PathError{Op: "mount", Path: point, Err: fs.ErrInvalid}
	}
	p := strings.TrimPrefix(path.Clean("/"+point), "/")
	if p == "" {
		p = "."
	}
	return p, nil
}

// backend returns the backend holding the link-free guest path p and p's
// name inside it: the deepest mount point that is p or one of its parents.
func (g *Guest) backend(p string) (Backend, string) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for i := len(g.mounts) - 1; i >= 0; i-- {
		m := g.mounts[i]
		if p == m.Point {
			return m.FS, "."
		}
		if rest, ok := strings.CutPrefix(p, m.Point+"/"); ok {
			return m.FS, rest
		}
	}
	return g.root, p
}

// isMountPoint reports whether the link-free path p is a mount point other
// than the root.
func (g *Guest) isMountPoint(p string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	_, found := slices.BinarySearchFunc(g.mounts, p, comparePoint)
	return found
}

// check validates name for op and returns the sticky option error, or
// the context's once it is done, if any.
func (g *Guest) check(op, name string) error {
	if !validName(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if g.err != nil {
		return &fs.PathError{Op: op, Path: name, Err: g.err}
	}
	if err := g.ctxErr(); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

// ctxErr returns the error of the WithContext context once it is done.
func (g *Guest) ctxErr() error {
	if g.set.ctx == nil {
		return nil
	}
	return context.Cause(g.set.ctx)
}

// Open opens the named file, following symlinks inside the guest. A
// directory opens as an fs.ReadDirFile.
func (g *Guest) Open(name string) (fs.File, error) {
	if err := g.check("open", name); err != nil {
		return nil, err
	}
	p, _, err := g.resolve(name, true)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	b, rel := g.backend(p)
	f, err := b.Open(rel)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return g.wrapFile(f, p, path.Base(name)), nil
}

// Stat returns the FileInfo of the named file, following symlinks.
func (g *Guest) Stat(name string) (fs.FileInfo, error) {
	if err := g.check("stat", name); err != nil {
		return nil, err
	}
	fi, err := g.stat(name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return newInfo(fi, path.Base(name)), nil
}

// Lstat returns the FileInfo of the named file without following a final
// symlink. Symlinks in directory components are followed.
func (g *Guest) Lstat(name string) (fs.FileInfo, error) {
	if err := g.check("lstat", name); err != nil {
		return nil, err
	}
	p, _, err := g.resolve(name, false)
	if err != nil {
		return nil, pathErr("lstat", name, err)
	}
	fi, err := g.lstat(p)
	if err != nil {
		return nil, pathErr("lstat", name, err)
	}
	return newInfo(fi, path.Base(name)), nil
}

// ReadLink returns the target of the named symlink as stored in the guest.
func (g *Guest) ReadLink(name string) (string, error) {
	if err := g.check("readlink", name); err != nil {
		return "", err
	}
	p, _, err := g.resolve(name, false)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	b, rel := g.backend(p)
	t, err := b.ReadLink(rel)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	return t, nil
}

// ReadDir reads the named directory, following symlinks, and returns its
// entries sorted by name. An entry that is a mount point describes the
// root of the mounted filesystem.
func (g *Guest) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := g.check("readdir", name); err != nil {
		return nil, err
	}
	p, _, err := g.resolve(name, true)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	b, rel := g.backend(p)
	ents, err := b.ReadDir(rel)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	out := make([]fs.DirEntry, len(ents))
	for i, e := range ents {
		out[i] = g.entry(p, e)
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// ReadFile reads the whole named file, following symlinks. Callers reading
// files an image controls should prefer ReadFileLimit.
func (g *Guest) ReadFile(name string) ([]byte, error) {
	return g.readFile("readfile", name, -1)
}

// ReadFileLimit reads the named file if its size is at most max bytes.
// A larger file gives an *fs.PathError wrapping ErrTooLarge; the file is
// never truncated. A negative max reads without a cap, as ReadFile does.
func (g *Guest) ReadFileLimit(name string, max int64) ([]byte, error) {
	return g.readFile("readfile", name, max)
}

func (g *Guest) readFile(op, name string, limit int64) ([]byte, error) {
	f, err := g.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: op, Path: name, Err: errIsDir}
	}
	size := fi.Size()
	if limit >= 0 && size > limit {
		return nil, &fs.PathError{Op: op, Path: name, Err: ErrTooLarge}
	}
	// The size is only a hint for the buffer, bounded by the cap (or by
	// 1 MiB without one: a corrupt inode can claim any size). Reading
	// stops one byte past the cap, so a file that grows, or a backend
	// that lies, cannot exceed it.
	hint := max(size, 0)
	if limit < 0 {
		limit = 1<<63 - 2
		hint = min(hint, 1<<20)
	}
	buf := make([]byte, 0, min(hint, limit)+1)
	r := io.LimitReader(f, limit+1)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, pathErr(op, name, err)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
	if int64(len(buf)) > limit {
		return nil, &fs.PathError{Op: op, Path: name, Err: ErrTooLarge}
	}
	return buf, nil
}

// Resolve returns the link-free guest path of name, following every
// symlink inside the guest. The named file must exist.
func (g *Guest) Resolve(name string) (string, error) {
	if err := g.check("resolve", name); err != nil {
		return "", err
	}
	p, fi, err := g.resolve(name, true)
	if err == nil && fi == nil {
		_, err = g.lstat(p)
	}
	if err != nil {
		return "", pathErr("resolve", name, err)
	}
	return p, nil
}

// stat resolves name and returns the backend's FileInfo of the result.
func (g *Guest) stat(name string) (fs.FileInfo, error) {
	p, fi, err := g.resolve(name, true)
	if err != nil || fi != nil {
		return fi, err
	}
	return g.lstat(p)
}

// lstat asks the backend holding the link-free path p.
func (g *Guest) lstat(p string) (fs.FileInfo, error) {
	b, rel := g.backend(p)
	return b.Lstat(rel)
}

// pathErr reports err for the caller's name, dropping the backend's own
// PathError so that Path is always the name the caller passed.
func pathErr(op, name string, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}
