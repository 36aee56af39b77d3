package imgcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect/fat"
	"github.com/imgcheck/imgcheck/image"
	"github.com/imgcheck/imgcheck/rules"
)

// Partition type names the boot path uses (image's friendly names).
const (
	biosBootType = "BIOS boot"
	espType      = "EFI System"
)

// efiLoaderNames are the distribution loaders looked for in each
// EFI/<vendor>/ directory of an ESP (lower case).
var efiLoaderNames = []string{"shimx64.efi", "grubx64.efi", "systemd-bootx64.efi"}

// bootPath reads what the firmware could start: the MBR's boot code, the
// BIOS boot partitions and the UEFI loaders on the EFI System Partitions.
// It reads 440 bytes, a sector per BIOS boot partition and a few
// directories per ESP.
func (t *Target) bootPath() *rules.DiskBoot {
	tb := t.layout.Table
	if tb.Scheme == image.None {
		return nil
	}
	b := &rules.DiskBoot{}
	code := make([]byte, 440)
	if _, err := t.img.ReadAt(code, 0); err != nil {
		b.Errors = append(b.Errors, "MBR: "+err.Error())
	} else if slices.ContainsFunc(code, func(c byte) bool { return c != 0 }) {
		b.MBRCode = mbrCodeKind(code)
	}
	for i := range tb.Partitions {
		p := &tb.Partitions[i]
		name := fmt.Sprintf("partition %d", p.Index)
		switch {
		case p.Type == biosBootType:
			core, err := holdsCode(p)
			switch {
			case err != nil:
				b.Errors = append(b.Errors, name+": "+err.Error())
			case core != "":
				b.BIOSCore = true
				b.BIOSBoot = append(b.BIOSBoot, name+": "+core)
			default:
				b.BIOSBoot = append(b.BIOSBoot, name+": empty")
			}
		case p.Type == espType: // GPT's type GUID or MBR's 0xEF
			loaders, kind, err := efiLoaders(p)
			if err != nil {
				b.Errors = append(b.Errors, name+": "+err.Error())
				continue
			}
			b.ESPs = append(b.ESPs, fmt.Sprintf("%s (%s)", name, kind))
			for _, l := range loaders {
				b.EFILoaders = append(b.EFILoaders, name+": "+l)
			}
		}
	}
	return b
}

// mbrCodeKind names the non-zero boot code of an MBR: "GRUB" (its
// boot.img), "unknown" for other code, or "stub" for code that never
// calls the BIOS disk service (int 13h, bytes CD 13), so can load
// nothing: the few instructions some partitioning tools write that halt
// or loop.
func mbrCodeKind(code []byte) string {
	switch {
	case bytes.Contains(code, []byte("GRUB")):
		return "GRUB"
	case !bytes.Contains(code, []byte{0xcd, 0x13}):
		return "stub"
	}
	return "unknown"
}

// holdsCode says what the first sector of a BIOS boot partition holds:
// "GRUB core image", "boot code", or "" when it is zero.
func holdsCode(p *image.Partition) (string, error) {
	s := make([]byte, min(512, p.Size))
	if _, err := p.ReadAt(s, 0); err != nil && err != io.EOF {
		return "", err
	}
	switch {
	case !slices.ContainsFunc(s, func(c byte) bool { return c != 0 }):
		return "", nil
	case bytes.Contains(s, []byte("loading")) && bytes.Contains(s, []byte("Geom")): // GRUB's diskboot.img, the core image's first sector
		return "GRUB core image", nil
	}
	return "boot code", nil
}

// efiLoaders lists the UEFI loaders of an ESP: the removable-media
// fallback EFI/BOOT/BOOTX64.EFI and the distribution loaders in
// EFI/<vendor>/.
func efiLoaders(p *image.Partition) (loaders []string, kind string, err error) {
	if code, err := holdsCode(p); err != nil || code == "" {
		return nil, "unformatted", err // a zero boot sector: no filesystem, no loader
	}
	fsys, err := fat.New(p, p.Size)
	if err != nil {
		return nil, "", err
	}
	if e, err := fsys.Stat("EFI/BOOT/BOOTX64.EFI"); err == nil && !e.Dir && e.Size > 0 {
		loaders = append(loaders, "/EFI/BOOT/BOOTX64.EFI")
	}
	vendors, err := fsys.ReadDir("EFI")
	if errors.Is(err, fs.ErrNotExist) {
		return loaders, fsys.Type(), nil
	}
	if err != nil {
		return nil, "", err
	}
	for _, v := range vendors {
		if !v.Dir || strings.EqualFold(v.Name, "BOOT") {
			continue
		}
		files, err := fsys.ReadDir("EFI/" + v.Name)
		if err != nil {
			return nil, "", err
		}
		for _, f := range files {
			if !f.Dir && f.Size > 0 && slices.Contains(efiLoaderNames, strings.ToLower(f.Name)) {
				loaders = append(loaders, "/EFI/"+v.Name+"/"+f.Name)
			}
		}
	}
	return loaders, fsys.Type(), nil
}
