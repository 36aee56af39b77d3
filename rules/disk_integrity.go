package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// disk.integrity: the upload was cut short. Everything the container,
// the partition table and LVM metadata place in the file or on the
// virtual disk must lie inside it; a truncated upload leaves the tail
// outside, and the parts of the guest there read as ERROR.

var diskIntegrityRule = Rule{ID: "disk.integrity", Title: "The image file holds everything its metadata references", Check: checkDiskIntegrity}

func checkDiskIntegrity(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	var out []Finding
	for _, e := range d.Extents {
		if e.End <= e.Limit {
			continue
		}
		f := in.New(Fail, e.What, fmt.Sprintf("%s ends at byte %d, past the end of the %s (%d bytes): the image was cut short (a truncated upload or copy), and what lies beyond cannot be read",
			e.What, e.End, e.In, e.Limit),
			KV{"structure", e.What}, KV{"referenced", strconv.FormatInt(e.End, 10)}, KV{"within", e.In}, KV{KeySize, strconv.FormatInt(e.Limit, 10)},
			KV{"missing", FormatSize(e.End - e.Limit)})
		f.Fix = "copy or upload the image again and compare its checksum (sha256sum) with the original's; qemu-img check reports a damaged qcow2"
		out = append(out, f)
	}
	if len(out) > 0 {
		return out
	}
	var what []string
	var furthest DiskExtent
	for _, e := range d.Extents {
		what = append(what, e.What)
		if e.End > furthest.End {
			furthest = e
		}
	}
	if len(what) == 0 {
		return []Finding{in.New(Pass, "disk", "the image's metadata places nothing beyond its file")}
	}
	return []Finding{in.New(Pass, "disk", fmt.Sprintf("everything the metadata references lies inside the image (%d structures checked)", len(what)),
		KV{KeyCount, strconv.Itoa(len(what))}, KV{"checked", strings.Join(what, ", ")},
		KV{"structure", furthest.What}, KV{"referenced", strconv.FormatInt(furthest.End, 10)}, KV{"within", furthest.In}, KV{KeySize, strconv.FormatInt(furthest.Limit, 10)})}
}
