package fsinspect

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// specKey is what an fstab source names: a filesystem UUID or label, a
// partition UUID, name or number, or nothing we can look up.
type specKey struct {
	kind  string // "UUID", "LABEL", "PARTUUID", "PARTLABEL", "INDEX", "DISK", "DMNAME", "DMUUID", "LVPATH" or ""
	value string
	index int // partition number for "INDEX"
}

// devName matches the first disk's partitions under the names virtio,
// SCSI/SATA, Xen, IDE, NVMe and MMC drivers give them. The patterns of
// this file are compiled on first use, so that start-up does not pay for
// them.
var devName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^/dev/(?:(?:vd|sd|xvd|hd)a|nvme0n1p|mmcblk0p)([1-9][0-9]*)$`)
})

// wholeDisk matches the first disk itself, which holds a filesystem when
// the image has no partition table.
var wholeDisk = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^/dev/(?:(?:vd|sd|xvd|hd)a|nvme0n1|mmcblk0)$`)
})

// parseSpec decodes an fstab source.
func parseSpec(spec string) specKey {
	for _, kind := range []string{"UUID", "LABEL", "PARTUUID", "PARTLABEL"} {
		if v, ok := strings.CutPrefix(spec, kind+"="); ok {
			return specKey{kind: kind, value: strings.Trim(v, `"'`)}
		}
	}
	byDir := map[string]string{
		"/dev/disk/by-uuid/": "UUID", "/dev/disk/by-label/": "LABEL",
		"/dev/disk/by-partuuid/": "PARTUUID", "/dev/disk/by-partlabel/": "PARTLABEL",
	}
	for dir, kind := range byDir {
		if v, ok := strings.CutPrefix(spec, dir); ok {
			return specKey{kind: kind, value: unescapeUdev(v)}
		}
	}
	if m := devName().FindStringSubmatch(spec); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil {
			return specKey{kind: "INDEX", index: n}
		}
	}
	if wholeDisk().MatchString(spec) {
		return specKey{kind: "DISK"}
	}
	return lvmSpec(spec)
}

// lvPath matches /dev/<vg>/<lv>; lvm2 names hold only [A-Za-z0-9+_.-].
var lvPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^/dev/([A-Za-z0-9+_.-]+)/([A-Za-z0-9+_.-]+)$`)
})

// lvmSpec decodes the names of an LVM2 logical volume: the device-mapper
// name (/dev/mapper/<vg>-<lv>, or udev's /dev/disk/by-id/dm-name-), the
// dm-uuid-LVM-<vg uuid><lv uuid> link, and /dev/<vg>/<lv>.
func lvmSpec(spec string) specKey {
	for _, prefix := range []string{"/dev/mapper/", "/dev/disk/by-id/dm-name-"} {
		if v, ok := strings.CutPrefix(spec, prefix); ok {
			return specKey{kind: "DMNAME", value: unescapeUdev(v)}
		}
	}
	if v, ok := strings.CutPrefix(spec, "/dev/disk/by-id/dm-uuid-LVM-"); ok {
		return specKey{kind: "DMUUID", value: v}
	}
	if m := lvPath().FindStringSubmatch(spec); m != nil && m[1] != "disk" && m[1] != "mapper" {
		return specKey{kind: "LVPATH", value: m[1] + "/" + m[2]}
	}
	return specKey{}
}

// unescapeUdev decodes the \xNN escapes udev uses in /dev/disk/by-* names.
func unescapeUdev(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
