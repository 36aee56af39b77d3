package facts

import (
	"fmt"
	"io/fs"
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
// directory.
func (f *Facts) VarLogFiles() ([]LogFile, error) {
	return Memo(f, "varlog", func() ([]LogFile, error) {
		var out []LogFile
		var walk func(dir string, depth int) error
		walk = func(dir string, depth int) error {
			if depth > logWalkMaxDepth {
				return fmt.Errorf("/%s: directories nested deeper than %d levels", dir, logWalkMaxDepth)
			}
			ents, err := ReadDir(f.guest, dir)
			if err != nil {
				return err
			}
			for _, e := range ents {
				p := dir + "/" + e.Name()
				switch {
				case e.Type().IsDir():
					if err := walk(p, depth+1); err != nil {
						return err
					}
				case e.Type().IsRegular():
					fi, err := e.Info()
					if err != nil {
						return err
					}
					out = append(out, LogFile{p, fi})
				}
			}
			return nil
		}
		if fi, err := Lstat(f.guest, "var/log"); err != nil || fi == nil {
			return nil, err
		}
		return out, walk("var/log", 0)
	})
}
