package rules

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// Boot-path rules: will a Droplet made from a whole-disk image boot? A
// kernel in /boot, and a way for the firmware to reach it. A bare
// filesystem and a --root scan have no boot path to check.

var bootKernelRule = Rule{ID: "boot.kernel", Title: "A kernel is in /boot", Check: checkBootKernel}

// wholeDiskOrSkip returns in.Disk for a partitioned disk, or the SKIP the
// boot rules report on a bare filesystem and a --root scan.
func wholeDiskOrSkip(in *Input) (*Disk, []Finding) {
	d, skip := diskOrSkip(in)
	if d == nil {
		return nil, skip
	}
	if d.Scheme == "none" || d.Scheme == "" {
		return nil, []Finding{in.Skip(NotApplicable, "a bare filesystem image has no partition table and no boot loader to check")}
	}
	return d, nil
}

// isKernel reports whether a /boot entry is named like a Linux kernel.
func isKernel(name string) bool {
	return name == "vmlinuz" || name == "vmlinux" || strings.HasPrefix(name, "vmlinuz-") || strings.HasPrefix(name, "vmlinux-")
}

func checkBootKernel(in *Input) []Finding {
	if _, skip := wholeDiskOrSkip(in); skip != nil {
		return skip
	}
	fix := "install a kernel package (apt-get install linux-image-cloud-amd64, dnf install kernel) and check that /boot is in the image"
	ents, err := facts.ReadDir(in.Guest, "boot") // a missing /boot is no error: no kernel
	var me *fsinspect.MountError
	switch {
	case errors.Is(err, fsinspect.ErrNoFilesystem) && errors.As(err, &me):
		f := in.New(Fail, "/boot", fmt.Sprintf("/boot is a separate filesystem (%s in /etc/fstab) that is not in the image: the boot loader finds no kernel", me.Spec),
			KV{KeyPath, "/boot"}, KV{"fstab", me.Spec})
		f.Fix = "include the /boot partition in the image, or move the kernel into the root filesystem and drop /boot from /etc/fstab"
		return []Finding{f}
	case err != nil:
		return []Finding{in.Fault("/boot", err)}
	}
	var kernels []string
	for _, e := range ents {
		if !isKernel(e.Name()) {
			continue
		}
		fi, err := facts.Stat(in.Guest, "boot/"+e.Name())
		if err != nil {
			return []Finding{in.Fault("/boot/"+e.Name(), err)}
		}
		if fi != nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			kernels = append(kernels, e.Name())
		}
	}
	slices.Sort(kernels)
	if len(kernels) == 0 {
		f := in.New(Fail, "/boot", "no kernel in /boot (no non-empty vmlinuz-* or vmlinux-*): the Droplet has nothing to boot", KV{KeyPath, "/boot"})
		f.Fix = fix
		return []Finding{f}
	}
	ev := []KV{{KeyPath, "/boot"}, {KeyCount, fmt.Sprint(len(kernels))}}
	for _, k := range kernels {
		ev = append(ev, KV{"kernel", "/boot/" + k})
	}
	return []Finding{in.New(Pass, "/boot", "kernel in /boot: "+strings.Join(kernels, ", "), ev...)}
}

var bootLoaderRule = Rule{ID: "boot.loader", Title: "The disk has a boot loader the firmware can start", Check: checkBootLoader}

func checkBootLoader(in *Input) []Finding {
	d, skip := wholeDiskOrSkip(in)
	if d == nil {
		return skip
	}
	b := d.Boot
	switch {
	case in.Guest == nil: // no readable root, exit 3, not a verdict on half an image
		return []Finding{in.Fault("root filesystem", errors.New(cmp.Or(d.RootErr, "no readable root filesystem")))}
	case b == nil:
		return []Finding{in.Fault("boot path", errors.New("not read"))}
	}
	ev := []KV{{"mbr_code", cmp.Or(b.MBRCode, "none (440 zero bytes)")}}
	for _, v := range b.BIOSBoot {
		ev = append(ev, KV{"bios_boot", v})
	}
	for _, v := range b.ESPs {
		ev = append(ev, KV{"esp", v})
	}
	for _, v := range b.EFILoaders {
		ev = append(ev, KV{"efi_loader", v})
	}
	for _, v := range b.Errors {
		ev = append(ev, KV{KeyReason, v})
	}
	bios, why := biosPath(d)
	if bios {
		msg := "BIOS boot path: " + why
		if len(b.EFILoaders) > 0 {
			msg += "; UEFI loaders too"
		}
		return []Finding{in.New(Pass, "disk", msg, ev...)}
	}
	if len(b.EFILoaders) > 0 {
		f := in.New(Warn, "disk", fmt.Sprintf("the only boot path is UEFI (%s) and %s: DigitalOcean documents no UEFI boot for custom images, and Droplets boot by BIOS", strings.Join(b.EFILoaders, ", "), why), ev...)
		f.Fix = "install GRUB for BIOS too: grub-install --target=i386-pc /dev/vda (a GPT disk needs a 1 MiB BIOS boot partition)"
		return []Finding{f}
	}
	if len(b.Errors) > 0 {
		return []Finding{in.Fault("boot path", errors.New(strings.Join(b.Errors, "; ")))}
	}
	f := in.New(Fail, "disk", "no boot path: "+why+", and no EFI System Partition holds a UEFI loader; the Droplet cannot boot", ev...)
	f.Fix = "install a boot loader: grub-install --target=i386-pc /dev/vda && update-grub (on a GPT disk, first add a 1 MiB BIOS boot partition)"
	return []Finding{f}
}

// biosPath reports whether BIOS firmware can start the disk, and says why
// or why not: boot code in the MBR and, for GRUB on a GPT disk, its core
// image in a BIOS boot partition.
func biosPath(d *Disk) (bool, string) {
	b := d.Boot
	switch {
	case b.MBRCode == "":
		return false, "the MBR holds no boot code (its first 440 bytes are zero)"
	case b.MBRCode == "stub":
		return false, "the MBR's boot code is a stub that never reads the disk (no int 13h call), so it loads no boot loader"
	case b.MBRCode == "GRUB" && d.Scheme == "gpt" && !b.BIOSCore:
		return false, "GRUB's boot code is in the MBR but no BIOS boot partition holds its core image"
	case b.MBRCode == "GRUB" && b.BIOSCore:
		return true, "GRUB's boot code in the MBR and its core image in a BIOS boot partition"
	}
	return true, "boot code (" + b.MBRCode + ") in the MBR"
}
