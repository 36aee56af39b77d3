package facts

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
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

// readRPM copies the rpm database out of the guest into a size-capped
// temporary file, because go-rpmdb opens host paths, and lists it.
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
	pkgs, err := f.listRPM(p)
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", p, err)
	}
	db.Packages = pkgs
	return db, nil
}

// listRPM copies the database at guest path p into the scan's temporary
// directory, because go-rpmdb opens host paths, and reads it.
func (f *Facts) listRPM(p string) (pkgs []*Package, err error) {
	scratch := f.opts.Scratch
	if scratch == nil {
		scratch = NewScratch("")
		defer scratch.Close()
	}
	tmp, err := copyToHost(f.guest, p, scratch, CapRPMDB)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := checkRPMBlobs(tmp, path.Base(p)); err != nil {
		return nil, err
	}
	rdb, err := rpmdb.Open(tmp)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	list, err := rdb.ListPackages()
	if err != nil {
		return nil, err
	}
	for _, pi := range list {
		v := pi.Version + "-" + pi.Release
		if pi.Epoch != nil && *pi.Epoch != 0 {
			v = strconv.Itoa(*pi.Epoch) + ":" + v
		}
		pkgs = append(pkgs, &Package{Name: pi.Name, Arch: pi.Arch, Version: v})
	}
	return pkgs, nil
}
