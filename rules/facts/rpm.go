package facts

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// rpmDBFiles are the rpm databases in selection order.
var rpmDBFiles = []struct{ name, format string }{
	{"rpmdb.sqlite", "rpm-sqlite"},
	{"Packages.db", "rpm-ndb"},
	{"Packages", "rpm-bdb"},
}

var rpmDBDirs = []string{"var/lib/rpm", "usr/lib/sysimage/rpm"}

// rpmDBPath returns the guest path of the rpm database to read, or "".
func (f *Facts) rpmDBPath() (string, error) {
	for _, db := range rpmDBFiles {
		for _, dir := range rpmDBDirs {
			p := path.Join(dir, db.name)
			ok, err := IsRegular(f.guest, p)
			if err != nil {
				return "", err
			}
			if ok {
				return p, nil
			}
		}
	}
	return "", nil
}

// readRPM lists the packages of the guest's rpm database.
func (f *Facts) readRPM() (*PackageDB, error) {
	p, err := f.rpmDBPath()
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, fmt.Errorf("no rpm database in /var/lib/rpm or /usr/lib/sysimage/rpm")
	}
	db := &PackageDB{Path: "/" + p}
	for _, d := range rpmDBFiles {
		if path.Base(p) == d.name {
			db.Format = d.format
		}
	}
	ents, err := ReadDir(f.guest, path.Dir(p))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "__db.") {
			db.EnvFiles = append(db.EnvFiles, "/"+path.Join(path.Dir(p), e.Name()))
		}
	}
	pkgs, err := f.listRPM(p, db.Format)
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", p, err)
	}
	db.Packages = pkgs
	return db, nil
}

// listRPM reads the packages of the rpm database at guest path p, in
// place, one header blob at a time.
func (f *Facts) listRPM(p, format string) ([]*Package, error) {
	var pkgs []*Package
	add := func(blob []byte) error {
		if len(pkgs) == maxPackages {
			return fmt.Errorf("%w: more than %d packages, cap reached", fsinspect.ErrTooLarge, maxPackages)
		}
		pkg, err := headerPackage(blob)
		if err != nil {
			return fmt.Errorf("rpm header %d: %w", len(pkgs), err)
		}
		pkgs = append(pkgs, pkg)
		return nil
	}
	max := cmp.Or(f.opts.MaxRPMDB, CapRPMDB)
	r, size, done, err := f.openAt(p, max)
	if err != nil {
		return nil, err
	}
	defer done()
	switch format {
	case "rpm-sqlite":
		err = f.sqliteValues(p, r, size, max, add)
	case "rpm-ndb":
		err = ndbValues(r, size, add)
	default:
		err = bdbValues(r, size, add)
	}
	return pkgs, err
}

// openAt opens the guest file p, of at most max bytes (the rpm-db
// limit), for reading at offsets, and returns it with its size and the
// function that closes it.
func (f *Facts) openAt(p string, max int64) (io.ReaderAt, int64, func() error, error) {
	file, err := f.guest.Open(p)
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, nil, err
	}
	if st.Size() > max {
		file.Close()
		return nil, 0, nil, fmt.Errorf("%w: %d bytes, over %d (the rpm-db limit), cap reached", fsinspect.ErrTooLarge, st.Size(), max)
	}
	r, ok := file.(io.ReaderAt)
	if !ok {
		file.Close()
		return nil, 0, nil, fmt.Errorf("%w: the guest file cannot be read at offsets", errors.ErrUnsupported)
	}
	return r, st.Size(), file.Close, nil
}
