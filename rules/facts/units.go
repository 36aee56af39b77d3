package facts

import (
	"io/fs"
	"path"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// unitDirs are the systemd unit directories searched for *.wants and
// *.requires links.
var unitDirs = []string{"etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"}

// UnitState is the offline state of one systemd unit. Every finding based
// on it is approximate: it says what systemd would do at boot, not what it did.
type UnitState struct {
	Name    string
	Masked  bool   // /etc/systemd/system/<unit> links to /dev/null or is empty
	Enabled bool   // linked from a *.wants or *.requires directory
	Link    string // guest path of the first link that enables it, for evidence
}

// Active reports whether the unit would be started at boot: enabled and not masked.
func (u UnitState) Active() bool { return u.Enabled && !u.Masked }

// wantLink is one entry of a *.wants or *.requires directory.
type wantLink struct {
	path   string // guest path of the link, "/etc/systemd/system/multi-user.target.wants/ssh.service"
	name   string // link name
	target string // base name of the link target, "" when not a link
}

// Unit returns the offline state of the named unit ("ssh.service").
func (f *Facts) Unit(name string) (UnitState, error) {
	return Memo(f, "unit:"+name, func() (UnitState, error) {
		u := UnitState{Name: name}
		masked, err := f.unitMasked(name)
		if err != nil {
			return u, err
		}
		u.Masked = masked
		links, err := f.wantLinks()
		if err != nil {
			return u, err
		}
		aliases, err := f.unitAliases(name)
		if err != nil {
			return u, err
		}
		for _, l := range links {
			if l.name == name || l.target == name || aliases[l.name] {
				u.Enabled, u.Link = true, l.path
				break
			}
		}
		return u, nil
	})
}

// unitMasked reports masking: /etc/systemd/system/<unit> is a
// symlink to /dev/null, or an empty file.
func (f *Facts) unitMasked(name string) (bool, error) {
	p := path.Join("etc/systemd/system", name)
	fi, err := Lstat(f.guest, p)
	if err != nil || fi == nil {
		return false, err
	}
	if fi.Mode().Type() == 0 {
		return fi.Size() == 0, nil
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return false, nil
	}
	target, err := f.guest.ReadLink(p)
	if err != nil {
		return false, err
	}
	return path.Clean(target) == "/dev/null", nil
}

// unitAliases returns the names declared by Alias= lines of the unit's
// own file in the first unit directory that has it.
func (f *Facts) unitAliases(name string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, dir := range unitDirs {
		p := path.Join(dir, name)
		fi, err := Stat(f.guest, p)
		if err != nil {
			return nil, err
		}
		if fi == nil || !fi.Mode().IsRegular() {
			continue // absent, or masked through /dev/null
		}
		b, err := f.guest.ReadFileLimit(p, CapConfig)
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(string(b)) {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && strings.TrimSpace(k) == "Alias" {
				for _, a := range strings.Fields(v) {
					out[a] = true
				}
			}
		}
		break
	}
	return out, nil
}

// wantLinks lists every entry of every *.wants and *.requires directory in
// the unit directories, once per guest.
func (f *Facts) wantLinks() ([]wantLink, error) {
	return Memo(f, "unit-links", func() ([]wantLink, error) {
		var out []wantLink
		seen := map[string]bool{}
		for _, dir := range unitDirs {
			real, err := f.guest.Resolve(dir)
			if err != nil {
				if fsinspect.IsFact(err) {
					continue
				}
				return nil, err
			}
			if seen[real] {
				continue
			}
			seen[real] = true
			ents, err := ReadDir(f.guest, dir)
			if err != nil {
				return nil, err
			}
			for _, e := range ents {
				if !strings.HasSuffix(e.Name(), ".wants") && !strings.HasSuffix(e.Name(), ".requires") {
					continue
				}
				sub := path.Join(dir, e.Name())
				links, err := ReadDir(f.guest, sub)
				if err != nil {
					return nil, err
				}
				for _, l := range links {
					wl := wantLink{path: "/" + path.Join(sub, l.Name()), name: l.Name()}
					if l.Type()&fs.ModeSymlink != 0 {
						t, err := f.guest.ReadLink(path.Join(sub, l.Name()))
						if err != nil {
							return nil, err
						}
						wl.target = path.Base(t)
					}
					out = append(out, wl)
				}
			}
		}
		return out, nil
	})
}
