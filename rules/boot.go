package rules

import (
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

var bootKernelRule = Rule{ID: "boot.kernel", Title: "A kernel is in /boot",
	Needs: []string{"fact:disk", "/boot/vmlinuz-*", "/boot/vmlinux-*"}, Check: checkBootKernel}

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
