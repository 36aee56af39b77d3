package fsinspect

import (
	"io/fs"
	"strings"
	"syscall"
)

// resolve turns the ValidPath name into a link-free guest path by looking
// up one component at a time with Lstat. A symlink in a directory
// component is always followed; a final one only when follow is set. An
// absolute target restarts at the guest root and ".." never climbs above
// it, so the lookup cannot leave the guest. The final component need not
// exist when it is not followed. The FileInfo is the backend's Lstat of
// the result when the walk already made it, nil otherwise.
func (g *Guest) resolve(name string, follow bool) (string, fs.FileInfo, error) {
	if name == "." {
		return ".", nil, nil
	}
	var (
		done []string                   // link-free components so far
		todo = strings.Split(name, "/") // components still to walk
		hops int
		info fs.FileInfo // Lstat of done's last component, if known
	)
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
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
