package facts

import (
	"fmt"
	"io/fs"
	"strings"
)

// logWalkMaxDepth bounds the /var/log walk against hostile nesting.
const logWalkMaxDepth = 32

// LogFile is one regular file found under /var/log.
type LogFile struct {
	Path string // guest name, "var/log/..."
	Info fs.FileInfo
}

// VarLogFiles walks /var/log recursively without following links and
// returns every regular file, dot-files included, in byte order per
// directory. A directory hard-linked into the tree again is listed once
// (fsinspect.Guest.WalkDir), so a hostile directory graph cannot make the
// walk exponential; a directory that is a guest fact (gone, a loop) is
// skipped, a fault is returned.
func (f *Facts) VarLogFiles() ([]LogFile, error) {
	return Memo(f, "varlog", func() ([]LogFile, error) {
		if f.guest == nil {
			return nil, ErrNoGuest
		}
		if fi, err := Lstat(f.guest, "var/log"); err != nil || fi == nil {
			return nil, err
		}
		var out []LogFile
		err := f.guest.WalkDir("var/log", func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return IgnoreFact(err)
			case d.IsDir():
				if depth := strings.Count(p, "/") - 1; depth > logWalkMaxDepth {
					return fmt.Errorf("/%s: directories nested deeper than %d levels", p, logWalkMaxDepth)
				}
			case d.Type().IsRegular():
				fi, err := d.Info()
				if err != nil {
					return err
				}
				out = append(out, LogFile{p, fi})
			}
			return nil
		})
		return out, err
	})
}
