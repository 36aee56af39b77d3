package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"strings"
)

// OVA is an Open Virtualization Format archive: a tar file whose first
// member is the .ovf descriptor, followed by the disks, as VMware and
// VirtualBox export them. Its first VMDK disk is read in place.
const OVA Format = "ova"

// ovaMaxMembers bounds the tar headers read from an OVA: its descriptor,
// manifest, certificate and disks are a handful.
const ovaMaxMembers = 256

func init() {
	registerFormat(containerFormat{Format: OVA, Match: matchOVA, Open: openOVA})
}

// matchOVA reports a tar file (ustar or GNU) whose first member is named
// *.ovf.
func matchOVA(head []byte, _ io.ReaderAt, _ int64) bool {
	if len(head) < 512 || string(head[257:262]) != "ustar" {
		return false
	}
	name, _, _ := strings.Cut(string(head[:100]), "\x00")
	return strings.HasSuffix(strings.ToLower(name), ".ovf")
}

// ovaError is a FormatError about an OVA file.
func ovaError(off int64, sentinel error, format string, args ...any) error {
	return &FormatError{Format: string(OVA), Offset: off, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// openOVA opens the first VMDK disk of the OVA r, size bytes, in place:
// it reads the tar headers only (skipping each member's data), and opens
// the disk over its byte range as a single sparse VMDK (a descriptor
// naming other members is refused, as for a remote descriptor).
func openOVA(r io.ReaderAt, size int64, src source, o *options) (*container, error) {
	top := &readCounter{r: r}
	sr := io.NewSectionReader(top, 0, size)
	tr := tar.NewReader(sr)
	var disks []string
	var diskAt, diskSize int64
	for n := 0; ; n++ {
		if n == ovaMaxMembers {
			return nil, ovaError(-1, ErrUnsupported, "archive has more than %d members", ovaMaxMembers)
		}
		at, _ := sr.Seek(0, io.SeekCurrent)
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			sentinel := ErrFormat
			if errors.Is(err, io.ErrUnexpectedEOF) {
				sentinel = ErrTruncated
			}
			return nil, ovaError(at, sentinel, "tar member after 0x%x: %v", at, err)
		}
		if !strings.HasSuffix(strings.ToLower(hdr.Name), ".vmdk") {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, ovaError(at, ErrUnsupported, "disk %q is not a regular tar member (type %q)", vmdkQuote(hdr.Name), hdr.Typeflag)
		}
		disks = append(disks, hdr.Name)
		if len(disks) == 1 {
			diskAt, _ = sr.Seek(0, io.SeekCurrent)
			diskSize = hdr.Size
		}
	}
	if len(disks) == 0 {
		return nil, ovaError(-1, ErrUnsupported, "archive holds no VMDK disk")
	}
	if !fitsIn(uint64(diskAt), uint64(diskSize), size) {
		return nil, ovaError(diskAt, ErrTruncated, "disk %q (0x%x bytes at 0x%x) runs past end of file (size 0x%x)", vmdkQuote(disks[0]), diskSize, diskAt, size)
	}
	member := source{Name: src.Name + ":" + disks[0]}
	c, err := openVMDK(io.NewSectionReader(top, diskAt, diskSize), diskSize, member, o)
	if err != nil {
		return nil, fmt.Errorf("ova: disk %q: %w", vmdkQuote(disks[0]), err)
	}
	detail := fmt.Sprintf("%q, disk 1 of %d", vmdkQuote(disks[0]), len(disks))
	c.Layers = append([]Layer{{Format: OVA, Detail: detail, Path: src.Name, FileSize: size}}, c.Layers...)
	c.Layers[1].Path = ""
	if c.Referenced >= 0 {
		c.Referenced += diskAt
	}
	c.Allocated = size
	c.Closers = append([]io.Closer{top}, c.Closers...)
	return c, nil
}
