package rules

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// What DigitalOcean's custom-image upload accepts: these containers,
// plain or compressed with gzip or bzip2, with an ext3 or ext4 root.

var diskUploadFormatRule = Rule{ID: "disk.upload-format", Title: "The file is a container and compression DigitalOcean's upload accepts", Check: checkUploadFormat}

var diskRootFSRule = Rule{ID: "disk.root-fs", Title: "The root filesystem is ext3 or ext4", Check: checkRootFS}

var (
	acceptedContainers  = []string{"raw", "qcow2", "vhdx", "vdi", "vmdk"}
	acceptedCompression = []string{"gzip", "bzip2"}
	otherCompression    = []string{"xz", "zstd", "lz4"}
	acceptedRootFS      = []string{"ext3", "ext4"}
	compressedExt       = map[string]string{"xz": "xz", "zstd": "zst", "lz4": "lz4"}
)

func checkUploadFormat(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	chain := describeFormats(d.Formats)
	ev := []KV{{"formats", strings.Join(d.Formats, ", ")}}
	var out []Finding
	for _, f := range d.Formats {
		switch {
		case slices.Contains(otherCompression, f):
			w := in.New(Warn, "file", fmt.Sprintf("the file is compressed with %s: DigitalOcean accepts gzip or bzip2 only", f), ev...)
			w.Fix = fmt.Sprintf("recompress with gzip: %s -dc disk.img.%s | gzip > disk.img.gz", f, compressedExt[f])
			out = append(out, w)
		case f == "vhd":
			w := in.New(Warn, "file", "the disk is a VHD: DigitalOcean accepts raw, qcow2, VHDX, VDI and VMDK", ev...)
			w.Fix = "convert it: qemu-img convert -O qcow2 disk.vhd disk.qcow2"
			out = append(out, w)
		case !slices.Contains(acceptedContainers, f) && !slices.Contains(acceptedCompression, f):
			w := in.New(Warn, "file", fmt.Sprintf("the %s format is not one DigitalOcean's upload accepts", f), ev...)
			w.Fix = "convert it: qemu-img convert -O qcow2 disk.img disk.qcow2"
			out = append(out, w)
		}
	}
	if d.Backed {
		w := in.New(Warn, "file", "the image has a backing file, which an upload does not carry: the uploaded overlay alone is incomplete", append(ev, KV{"backing_file", "yes"})...)
		w.Fix = "flatten it: qemu-img convert -O qcow2 overlay.qcow2 flat.qcow2"
		out = append(out, w)
	}
	if len(out) > 0 {
		return out
	}
	return []Finding{in.New(Pass, "file", "the upload format ("+chain+") is one DigitalOcean accepts", ev...)}
}

// describeFormats says what the upload is: "qcow2", "raw compressed
// with gzip". The raw layer under a container is its data, not a format
// of the file.
func describeFormats(formats []string) string {
	container, comp := "raw", []string{}
	for _, f := range formats {
		switch {
		case slices.Contains(acceptedCompression, f) || slices.Contains(otherCompression, f):
			comp = append(comp, f)
		case f != "raw":
			container = f
		}
	}
	if len(comp) == 0 {
		return container
	}
	return container + " compressed with " + strings.Join(comp, " and ")
}

func checkRootFS(in *Input) []Finding {
	d, skip := diskOrSkip(in)
	if d == nil {
		return skip
	}
	fix := "rebuild the image with an ext4 root filesystem (mkfs.ext4), copying the files over (rsync -aHAX)"
	if _, f := rootFS(d); f != nil {
		ev := []KV{{"root_fs", f.Type}}
		if slices.Contains(acceptedRootFS, f.Type) {
			return []Finding{in.New(Pass, "root filesystem", "the root filesystem is "+f.Type, ev...)}
		}
		w := in.New(Warn, "root filesystem", fmt.Sprintf("the root filesystem is %s: DigitalOcean's custom-image requirements name ext3 and ext4", f.Type), ev...)
		w.Fix = fix
		if f.Type == "ext2" {
			w.Fix = "convert it in place: tune2fs -O extent,uninit_bg,dir_index,has_journal (ext2 to ext4), then e2fsck -fD; or " + fix
		}
		return []Finding{w}
	}
	// No readable root: name the Linux filesystems imgcheck cannot read.
	var out []Finding
	for _, p := range d.Partitions {
		switch p.FS {
		case "xfs", "btrfs", "f2fs", "jfs", "reiserfs", "zfs_member", "bcachefs":
			w := in.New(Warn, fmt.Sprintf("partition %d", p.Index), fmt.Sprintf("no readable root filesystem, and partition %d holds %s: DigitalOcean's custom-image requirements name ext3 and ext4", p.Index, p.FS),
				KV{"partition", fmt.Sprint(p.Index)}, KV{"fs", p.FS})
			w.Fix = fix
			out = append(out, w)
		}
	}
	if len(out) > 0 {
		return out
	}
	return []Finding{in.Fault("root filesystem", errors.New(cmp.Or(d.RootErr, "no root filesystem found")))}
}
