package rules

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// Cleanup leftovers of the marketplace profile: what
// DigitalOcean's cleanup.sh and the 1-Click cleanup remove, and a few
// build-time identities they miss.

var cleanTmpPermsRule = Rule{ID: "clean.tmp-perms", Title: "/tmp and /var/tmp are root-owned with mode 1777",
	Check: checkTmpPerms}

var cleanTmpContentsRule = Rule{ID: "clean.tmp-contents", Title: "/tmp and /var/tmp are empty",
	Check: checkTmpContents}

var cleanPkgCacheRule = Rule{ID: "clean.pkg-cache", Title: "Package caches are cleaned",
	Check: checkPkgCache}

var cleanCloudInstanceRule = Rule{ID: "clean.cloud-instance", Title: "No cloud-init instance state from the build Droplet",
	Check: checkCloudInstance}

var cleanZerofileRule = Rule{ID: "clean.zerofile", Title: "No /zerofile left by an interrupted zero-fill",
	Check: checkZerofile}

var cleanMachineIdRule = Rule{ID: "clean.machine-id", Title: "machine-id is empty so every Droplet gets its own",
	Check: checkMachineID}

var cleanMailSpoolRule = Rule{ID: "clean.mail-spool", Title: "Mailboxes are empty",
	Check: checkMailSpool}

var cleanUdevNetRule = Rule{ID: "clean.udev-net", Title: "No persistent-net udev rules pinning the build Droplet's MAC",
	Check: checkUdevNet}

var cleanIfcfgHwaddrRule = Rule{ID: "clean.ifcfg-hwaddr", Title: "No HWADDR= in ifcfg network scripts",
	Family: facts.RPM, Check: checkIfcfgHwaddr}

var cleanCrashDumpsRule = Rule{ID: "clean.crash-dumps", Title: "No crash dumps in /var/crash",
	Check: checkCrashDumps}

var cleanDhcpLeasesRule = Rule{ID: "clean.dhcp-leases", Title: "No DHCP leases from the build Droplet",
	Check: checkDHCPLeases}

const (
	modeTmp         = fs.ModeSticky | 0o777
	maxCountedTree  = 10000 // entries counted below one /tmp entry
	tmpWalkMaxDepth = 32    // directory nesting followed below /tmp, as for /var/log
	minFreePercent  = 5     // clean.zerofile: FAIL below this much free space
)

// unixMode renders permission bits in Unix octal ("1777").
func unixMode(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	return fmt.Sprintf("%04o", v)
}

func ownerUID(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*fsinspect.Stat)
	if !ok || st == nil {
		return 0, false
	}
	return st.Uid, true
}

func checkTmpPerms(in *Input) []Finding {
	var out []Finding
	for _, d := range []struct {
		name  string
		level Level
	}{{"tmp", Fail}, {"var/tmp", Warn}} {
		display := "/" + d.name
		fi, err := facts.Stat(in.Guest, d.name)
		if err != nil {
			out = append(out, in.Fault(display, err))
			continue
		}
		var f Finding
		switch {
		case fi == nil || !fi.IsDir():
			f = in.New(d.level, display, display+" is missing or not a directory", KV{KeyPath, display})
		case fi.Mode()&(fs.ModePerm|fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid) != modeTmp:
			f = in.New(d.level, display, fmt.Sprintf("%s has mode %s, not 1777", display, unixMode(fi.Mode())),
				KV{KeyPath, display}, KV{KeyMode, unixMode(fi.Mode())})
		default:
			uid, ok := ownerUID(fi)
			if ok && uid != 0 {
				f = in.New(Warn, display, fmt.Sprintf("%s is owned by UID %d, not root", display, uid),
					KV{KeyPath, display}, KV{KeyUID, strconv.FormatUint(uint64(uid), 10)})
			} else {
				f = in.New(Pass, display, display+" is a root-owned directory with mode 1777",
					KV{KeyPath, display}, KV{KeyMode, unixMode(fi.Mode())})
			}
		}
		if f.Level != Pass {
			f.Fix = fmt.Sprintf("mkdir -p %s && chown root:root %s && chmod 1777 %s", display, display, display)
		}
		out = append(out, f)
	}
	return out
}

// x11Dirs are the /tmp sockets directories systemd-tmpfiles recreates;
// they are ignored while empty.
var x11Dirs = map[string]bool{".X11-unix": true, ".ICE-unix": true, ".XIM-unix": true, ".font-unix": true, ".Test-unix": true}

// tmpIsTmpfs reports whether a tmpfs hides the on-disk /tmp at runtime:
// /etc/fstab mounts one there, or tmp.mount is active at boot.
func tmpIsTmpfs(in *Input) (bool, string, error) {
	data, err := facts.ReadIfPresent(in.Guest, "etc/fstab", facts.CapConfig)
	if err != nil {
		return false, "/etc/fstab", err
	}
	entries, err := fsinspect.ParseFstab(data)
	if err != nil {
		return false, "/etc/fstab", err
	}
	for _, e := range entries {
		if path.Clean(e.File) == "/tmp" && e.Type == "tmpfs" {
			return true, "/etc/fstab", nil
		}
	}
	u, err := in.Facts.Unit("tmp.mount")
	if err != nil {
		return false, "tmp.mount", err
	}
	return u.Active(), "tmp.mount", nil
}

func checkTmpContents(in *Input) []Finding {
	tmpfs, src, err := tmpIsTmpfs(in)
	if err != nil {
		return []Finding{in.Fault(src, err)}
	}
	var out []Finding
	for _, dir := range []string{"tmp", "var/tmp"} {
		ents, err := facts.ReadDir(in.Guest, dir)
		if err != nil {
			out = append(out, in.Fault("/"+dir, err))
			continue
		}
		for _, e := range ents {
			p := dir + "/" + e.Name()
			display := "/" + p
			fi, err := in.Guest.Lstat(p)
			if err != nil {
				out = append(out, in.Fault(display, err))
				continue
			}
			ev := []KV{{KeyPath, display}, {"type", FileType(fi.Mode())}}
			if fi.IsDir() {
				n, err := countTree(in.Guest, p, maxCountedTree)
				if err != nil {
					out = append(out, in.Fault(display, err))
					continue
				}
				if n == 0 && dir == "tmp" && x11Dirs[e.Name()] {
					continue
				}
				ev = append(ev, KV{KeyCount, strconv.Itoa(n)})
			} else {
				ev = append(ev, KV{KeySize, strconv.FormatInt(fi.Size(), 10)})
			}
			msg := display + " is left over from the build"
			if strings.HasPrefix(e.Name(), "systemd-private-") {
				msg = display + " is a systemd private directory: the image was taken from a running system"
			}
			f := in.New(Warn, display, msg, ev...)
			if tmpfs && dir == "tmp" {
				f.Level = Info
				f.Message = display + " is on the disk under the tmpfs mounted on /tmp at boot, so it is hidden at runtime"
			}
			f.Fix = "delete " + display
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/tmp", "/tmp and /var/tmp are empty"))
	}
	return out
}

// countTree counts the entries below dir, recursively, without following
// links, stopping at limit.
func countTree(g *fsinspect.Guest, dir string, limit int) (int, error) {
	n := 0
	var walk func(d string, depth int) error
	walk = func(d string, depth int) error {
		ents, err := facts.ReadDir(g, d)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if n >= limit {
				return nil
			}
			n++
			if e.Type().IsDir() && depth < tmpWalkMaxDepth {
				if err := walk(d+"/"+e.Name(), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return n, walk(dir, 0)
}

// cacheTotal counts the regular files in dir (recursively when deep) whose
// name passes keep, and their bytes. A directory hard-linked in again is
// read once (fsinspect.Guest.WalkDir).
func cacheTotal(g *fsinspect.Guest, dir string, deep bool, keep func(string) bool) (count int, size int64, err error) {
	if g == nil {
		return 0, 0, facts.ErrNoGuest
	}
	err = g.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return facts.IgnoreFact(err)
		case d.IsDir() && p != dir && (!deep || strings.Count(p[len(dir):], "/") > tmpWalkMaxDepth):
			return fs.SkipDir
		case d.Type().IsRegular() && keep(d.Name()):
			fi, err := d.Info()
			if err != nil {
				return err
			}
			count++
			size += fi.Size()
		}
		return nil
	})
	return count, size, err
}

func checkPkgCache(in *Input) []Finding {
	everything := func(string) bool { return true }
	suffix := func(s string) func(string) bool { return func(n string) bool { return strings.HasSuffix(n, s) } }
	caches := []struct {
		dir  string
		deep bool
		keep func(string) bool
		what string
		fix  string
	}{
		{"var/cache/apt/archives", false, suffix(".deb"), "downloaded .deb files", "apt-get clean"},
		{"var/cache/apt/archives/partial", false, everything, "partial downloads", "apt-get clean"},
		{"var/cache/apt", false, suffix(".bin"), "apt package caches", "apt-get clean"},
		{"var/cache/dnf", true, everything, "dnf cache files", "dnf clean all"},
		{"var/cache/yum", true, everything, "yum cache files", "yum clean all"},
	}
	var out []Finding
	for _, c := range caches {
		display := "/" + c.dir
		n, size, err := cacheTotal(in.Guest, c.dir, c.deep, c.keep)
		if err != nil {
			out = append(out, in.Fault(display, err))
			continue
		}
		if n == 0 {
			continue
		}
		f := in.New(Info, display, fmt.Sprintf("%d %s in %s, %d bytes", n, c.what, display, size),
			KV{KeyPath, display}, KV{KeyCount, strconv.Itoa(n)}, KV{KeySize, strconv.FormatInt(size, 10)})
		f.Fix = c.fix
		out = append(out, f)
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/var/cache", "package caches are empty"))
	}
	return out
}

func checkCloudInstance(in *Input) []Finding {
	const instances = "var/lib/cloud/instances"
	ents, err := facts.ReadDir(in.Guest, instances)
	if err != nil {
		return []Finding{in.Fault("/"+instances, err)}
	}
	var ids []string
	var ev []KV
	for _, e := range ents {
		ids = append(ids, e.Name())
		ev = append(ev, KV{"instance", e.Name()})
		for _, data := range []string{"user-data.txt", "vendor-data.txt"} {
			p := instances + "/" + e.Name() + "/" + data
			fi, err := facts.Stat(in.Guest, p)
			if err != nil {
				return []Finding{in.Fault("/"+p, err)}
			}
			if fi != nil && fi.Mode().IsRegular() {
				ev = append(ev, KV{KeyPath, "/" + p}, KV{KeySize, strconv.FormatInt(fi.Size(), 10)})
			}
		}
	}
	var out []Finding
	if len(ids) > 0 {
		f := in.New(Warn, "/"+instances, fmt.Sprintf("cloud-init state of %d instance(s) from the build Droplet: %s",
			len(ids), strings.Join(ids, ", ")), ev...)
		f.Fix = "rm -rf /var/lib/cloud/instances/*"
		out = append(out, f)
	}
	data, err := facts.ReadDir(in.Guest, "var/lib/cloud/data")
	if err != nil {
		return append(out, in.Fault("/var/lib/cloud/data", err))
	}
	if len(data) > 0 {
		var names []string
		for _, e := range data {
			names = append(names, e.Name())
		}
		out = append(out, in.New(Info, "/var/lib/cloud/data", "cloud-init data files: "+strings.Join(names, ", "),
			KV{KeyPath, "/var/lib/cloud/data"}, KV{KeyCount, strconv.Itoa(len(names))}))
	}
	if len(ids) == 0 {
		out = append([]Finding{in.New(Pass, "/"+instances, "no cloud-init instance state")}, out...)
	}
	return out
}

func checkZerofile(in *Input) []Finding {
	fi, err := facts.Lstat(in.Guest, "zerofile")
	if err != nil {
		return []Finding{in.Fault("/zerofile", err)}
	}
	if fi == nil {
		return []Finding{in.New(Pass, "/zerofile", "no /zerofile")}
	}
	ev := []KV{{KeyPath, "/zerofile"}, {KeySize, strconv.FormatInt(fi.Size(), 10)}}
	f := in.New(Warn, "/zerofile", fmt.Sprintf("/zerofile (%d bytes) is left over: zero-filling was interrupted", fi.Size()), ev...)
	if _, r := rootFS(in.Disk); r != nil && r.Size > 0 {
		free := r.Free * 100 / r.Size
		f.Evidence = append(f.Evidence, KV{"free_percent", strconv.FormatInt(free, 10)})
		if r.Free*100 < r.Size*minFreePercent {
			f.Level = Fail
			f.Message += fmt.Sprintf(", and the filesystem has only %d%% of its blocks free", free)
		}
	}
	f.Fix = "rm -f /zerofile"
	return []Finding{f}
}

func checkMachineID(in *Input) []Finding {
	var out []Finding
	const etcID = "etc/machine-id"
	data, err := facts.ReadIfPresent(in.Guest, etcID, facts.CapConfig)
	switch {
	case err != nil:
		out = append(out, in.Fault("/"+etcID, err))
	case len(bytes.TrimSpace(data)) == 0 || bytes.Contains(data, []byte("uninitialized")):
		out = append(out, in.New(Pass, "/"+etcID, "/etc/machine-id is empty, absent or uninitialized", KV{KeyPath, "/" + etcID}))
	default:
		f := in.New(Warn, "/"+etcID, "/etc/machine-id holds an ID that every Droplet would share (journal, DHCP DUID)",
			KV{KeyPath, "/" + etcID}, KV{KeySize, strconv.Itoa(len(data))})
		f.Fix = "truncate /etc/machine-id to 0 bytes (do not delete it)"
		out = append(out, f)
	}
	const dbusID = "var/lib/dbus/machine-id"
	fi, err := facts.Lstat(in.Guest, dbusID)
	if err != nil {
		return append(out, in.Fault("/"+dbusID, err))
	}
	if fi == nil {
		return out
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := in.Guest.Resolve(dbusID)
		if err != nil && !fsinspect.IsFact(err) {
			return append(out, in.Fault("/"+dbusID, err))
		}
		if target == etcID || err != nil {
			return out
		}
		if fi, err = facts.Stat(in.Guest, dbusID); err != nil {
			return append(out, in.Fault("/"+dbusID, err))
		}
	}
	if fi != nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		f := in.New(Warn, "/"+dbusID, "/var/lib/dbus/machine-id is a copy of a machine ID, not a link to /etc/machine-id",
			KV{KeyPath, "/" + dbusID}, KV{KeySize, strconv.FormatInt(fi.Size(), 10)})
		f.Fix = "rm /var/lib/dbus/machine-id (or link it to /etc/machine-id)"
		out = append(out, f)
	}
	return out
}

func checkMailSpool(in *Input) []Finding {
	accts, accErr := in.Facts.Accounts()
	seen := map[string]bool{}
	var out []Finding
	for _, dir := range []string{"var/mail", "var/spool/mail"} {
		ents, err := facts.ReadDir(in.Guest, dir)
		if err != nil {
			out = append(out, in.Fault("/"+dir, err))
			continue
		}
		for _, e := range ents {
			p := dir + "/" + e.Name()
			display := "/" + p
			real, err := in.Guest.Resolve(p)
			if err != nil {
				if !fsinspect.IsFact(err) {
					out = append(out, in.Fault(display, err))
				}
				continue
			}
			if seen[real] {
				continue
			}
			seen[real] = true
			fi, err := in.Guest.Stat(p)
			if err != nil {
				out = append(out, in.Fault(display, err))
				continue
			}
			if !fi.Mode().IsRegular() || fi.Size() == 0 {
				continue
			}
			ev := []KV{{KeyPath, display}, {KeySize, strconv.FormatInt(fi.Size(), 10)}}
			if uid, ok := ownerUID(fi); ok {
				ev = append(ev, KV{KeyUID, strconv.FormatUint(uint64(uid), 10)})
				if accErr == nil && accts != nil {
					if name, ok := accts.ByUID(int(uid)); ok {
						ev = append(ev, KV{KeyUser, name})
					}
				}
			}
			f := in.New(Warn, display, fmt.Sprintf("mailbox %s holds %d bytes", display, fi.Size()), ev...)
			f.Fix = "truncate " + display + " to 0 bytes"
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/var/mail", "mailboxes are empty"))
	}
	return out
}

// nonEmptyFileRule reports p at level when it is a non-empty regular file.
func nonEmptyFileRule(in *Input, p string, level Level, msg, fix string) []Finding {
	display := "/" + p
	fi, err := facts.Stat(in.Guest, p)
	if err != nil {
		return []Finding{in.Fault(display, err)}
	}
	if fi == nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return []Finding{in.New(Pass, display, display+" is absent or empty")}
	}
	f := in.New(level, display, fmt.Sprintf(msg, display), fileEvidence(p, fi)...)
	f.Fix = fix
	return []Finding{f}
}

func checkUdevNet(in *Input) []Finding {
	return nonEmptyFileRule(in, "etc/udev/rules.d/70-persistent-net.rules", Warn,
		"%s pins the build Droplet's MAC address to an interface name",
		"delete /etc/udev/rules.d/70-persistent-net.rules")
}

func checkIfcfgHwaddr(in *Input) []Finding {
	const dir = "etc/sysconfig/network-scripts"
	ents, err := facts.ReadDir(in.Guest, dir)
	if err != nil {
		return []Finding{in.Fault("/"+dir, err)}
	}
	var out []Finding
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "ifcfg-") {
			continue
		}
		p := dir + "/" + e.Name()
		display := "/" + p
		data, err := facts.ReadIfPresent(in.Guest, p, facts.CapConfig)
		if err != nil {
			out = append(out, in.Fault(display, err))
			continue
		}
		for i, line := range strings.Split(string(data), "\n") {
			v, ok := strings.CutPrefix(strings.TrimSpace(line), "HWADDR=")
			if !ok || strings.Trim(v, `"' `) == "" {
				continue
			}
			f := in.New(Warn, display, fmt.Sprintf("%s sets HWADDR= (line %d): networking breaks on a new MAC address", display, i+1),
				KV{KeyPath, display}, KV{KeyLine, strconv.Itoa(i + 1)})
			f.Fix = "remove the HWADDR= line from " + display
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/"+dir, "no ifcfg file sets HWADDR="))
	}
	return out
}

// leftoverFiles reports every non-empty regular file directly in the
// given directories whose name passes keep.
func leftoverFiles(in *Input, dirs []string, keep func(string) bool, level Level, msg, fix string) []Finding {
	var out []Finding
	for _, dir := range dirs {
		ents, err := facts.ReadDir(in.Guest, dir)
		if err != nil {
			out = append(out, in.Fault("/"+dir, err))
			continue
		}
		for _, e := range ents {
			if !keep(e.Name()) {
				continue
			}
			p := dir + "/" + e.Name()
			fi, err := facts.Stat(in.Guest, p)
			if err != nil {
				out = append(out, in.Fault("/"+p, err))
				continue
			}
			if fi == nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
				continue
			}
			f := in.New(level, "/"+p, fmt.Sprintf(msg, "/"+p, fi.Size()), fileEvidence(p, fi)...)
			f.Fix = fix + " /" + p
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		out = append(out, in.New(Pass, "/"+dirs[0], "none found in /"+strings.Join(dirs, ", /")))
	}
	return out
}

func checkCrashDumps(in *Input) []Finding {
	return leftoverFiles(in, []string{"var/crash"}, func(string) bool { return true }, Warn,
		"crash dump %s (%d bytes) can contain memory with secrets", "delete")
}

func checkDHCPLeases(in *Input) []Finding {
	out := leftoverFiles(in, []string{"var/lib/dhcp", "var/lib/dhclient"}, func(string) bool { return true }, Info,
		"DHCP lease file %s (%d bytes) from the build Droplet", "delete")
	nm := leftoverFiles(in, []string{"var/lib/NetworkManager"}, func(n string) bool { return strings.HasSuffix(n, ".lease") }, Info,
		"DHCP lease file %s (%d bytes) from the build Droplet", "delete")
	var all []Finding
	for _, f := range append(out, nm...) {
		if f.Level != Pass {
			all = append(all, f)
		}
	}
	if len(all) == 0 {
		all = append(all, in.New(Pass, "/var/lib/dhcp", "no DHCP lease files"))
	}
	return all
}
