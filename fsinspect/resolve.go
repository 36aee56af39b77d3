package fsinspect

import (
	"io/fs"
	"strings"
	"sync"
	"syscall"
)

// resolve turns the ValidPath name into a link-free guest path by looking
// up one component at a time with Lstat. A symlink in a directory
// component is always followed; a final one only when follow is set. An
// absolute target restarts at the guest root and ".." never climbs above
// it, so the lookup cannot leave the guest. The symlinks followed and the
// components visited are bounded (ErrLoop, ErrTooManyComponents). The
// final component need not exist when it is not followed. The FileInfo is the backend's Lstat of
// the result when the walk already made it, nil otherwise.
func (g *Guest) resolve(name string, follow bool) (string, fs.FileInfo, error) {
	if name == "." {
		return ".", nil, nil
	}
	var (
		done  []string                   // link-free components so far
		todo  = strings.Split(name, "/") // components still to walk
		hops  int
		steps int         // components visited, bounded by maxComps
		info  fs.FileInfo // Lstat of done's last component, if known
	)
	// A parent an earlier lookup found to be a link-free directory is
	// not walked again: listing a deep tree stays linear in its depth.
	if i := strings.LastIndexByte(name, '/'); i > 0 && g.dirs.has(name[:i]) {
		done, todo = strings.Split(name[:i], "/"), todo[len(todo)-1:]
	}
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c != "" {
			if steps++; steps > g.set.maxComps {
				return "", nil, ErrTooManyComponents
			}
		}
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			info = nil
			continue
		}
		last := !moreComponents(todo)
		p := joinPath(done, c)
		if last && !follow {
			done, info = append(done, c), nil
			break
		}
		fi, err := g.lstat(p)
		if err != nil {
			return "", nil, err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			hops++
			if hops > g.set.maxHops {
				return "", nil, ErrLoop
			}
			b, rel := g.backend(p)
			target, err := b.ReadLink(rel)
			if err != nil {
				return "", nil, err
			}
			if target == "" {
				return "", nil, fs.ErrNotExist
			}
			if strings.HasPrefix(target, "/") {
				done, info = done[:0], nil
			}
			parts := strings.Split(target, "/")
			if strings.HasSuffix(target, "/") {
				// "dir/" must name a directory: keep a "." to check it.
				parts[len(parts)-1] = "."
			}
			todo = append(parts, todo...)
		case !last && !fi.IsDir():
			return "", nil, syscall.ENOTDIR
		default:
			done, info = append(done, c), fi
			if fi.IsDir() {
				g.dirs.add(p)
			}
		}
	}
	if len(done) == 0 {
		return ".", nil, nil
	}
	return strings.Join(done, "/"), info, nil
}

// moreComponents reports whether todo still holds a component that makes
// the current one a directory: anything but empty strings. A trailing "."
// counts, so "dir/." and a link to "dir/" require a directory.
func moreComponents(todo []string) bool {
	for _, c := range todo {
		if c != "" {
			return true
		}
	}
	return false
}

// joinPath returns the guest path of component c below done.
func joinPath(done []string, c string) string {
	if len(done) == 0 {
		return c
	}
	return strings.Join(done, "/") + "/" + c
}

// dirCacheBytes bounds the paths a dirCache holds.
const dirCacheBytes = 1 << 20

// dirCache remembers link-free guest paths that resolve found to be
// directories. It holds up to dirCacheBytes of paths and empties when
// full: a lookup that misses only walks from the root, as without it.
type dirCache struct {
	mu    sync.Mutex
	paths map[string]struct{}
	bytes int
}

// has reports whether p is a remembered directory.
func (c *dirCache) has(p string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.paths[p]
	return ok
}

// add remembers the directory p.
func (c *dirCache) add(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.paths[p]; ok {
		return
	}
	if c.paths == nil || c.bytes+len(p) > dirCacheBytes {
		c.paths, c.bytes = map[string]struct{}{}, 0
	}
	c.paths[p] = struct{}{}
	c.bytes += len(p) + 48 // the map slot and string header
}

// reset forgets every directory, as a new mount may hide them.
func (c *dirCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paths, c.bytes = nil, 0
}
