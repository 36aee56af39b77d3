package facts

import (
	"path"
)

// rootPath is root's PATH, in lookup order.
var rootPath = []string{"usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin", "snap/bin"}

// LookPath finds the command name on root's PATH inside the guest. It
// returns the guest path ("/usr/bin/cloud-init") of the first executable
// regular file found, or "" when there is none. An image fault on any
// candidate is returned as an error.
func (f *Facts) LookPath(name string) (string, error) {
	return Memo(f, "command:"+name, func() (string, error) {
		for _, dir := range rootPath {
			p := path.Join(dir, name)
			ok, err := f.Executable(p)
			if err != nil {
				return "", err
			}
			if ok {
				return "/" + p, nil
			}
		}
		return "", nil
	})
}

// Executable reports whether name is, after resolution in the guest, a
// regular file with an execute bit set.
func (f *Facts) Executable(name string) (bool, error) {
	fi, err := Stat(f.guest, name)
	if err != nil || fi == nil {
		return false, err
	}
	return fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0, nil
}
