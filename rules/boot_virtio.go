package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/facts"
	"github.com/imgcheck/imgcheck/rules/facts/initramfs"
)

// boot.virtio: a Droplet's disk is a virtio block device and its network a
// virtio NIC. Each kernel in /boot must provide virtio_blk and virtio_net,
// and a virtio_blk module must be in the kernel's initramfs, or the kernel
// never finds its root filesystem.

var bootVirtioRule = Rule{ID: "boot.virtio", Title: "Each kernel in /boot has virtio disk and network drivers (virtio_blk in its initramfs)", Check: checkBootVirtio}

var (
	virtioBlk = facts.Driver{Module: "virtio_blk", Option: "CONFIG_VIRTIO_BLK"}
	virtioNet = facts.Driver{Module: "virtio_net", Option: "CONFIG_VIRTIO_NET"}
)

func checkBootVirtio(in *Input) []Finding {
	if _, skip := wholeDiskOrSkip(in); skip != nil {
		return skip
	}
	kernels, err := facts.BootKernels(in.Guest)
	var me *fsinspect.MountError
	switch {
	case errors.Is(err, fsinspect.ErrNoFilesystem) && errors.As(err, &me):
		return []Finding{in.Skip(NotApplicable, "/boot is a separate filesystem that is not in the image (boot.kernel fails)")}
	case err != nil:
		return []Finding{in.Fault("/boot", err)}
	case len(kernels) == 0:
		return []Finding{in.Skip(NotApplicable, "no vmlinuz-<version> or vmlinux-<version> in /boot (boot.kernel reports a missing kernel)")}
	}
	out := make([]Finding, 0, min(len(kernels), maxKernels)+1)
	for i, k := range kernels[:min(len(kernels), maxKernels)] {
		out = append(out, checkKernelVirtio(in, k, i == 0))
	}
	if rest := len(kernels) - maxKernels; rest > 0 {
		out = append(out, in.New(Error, "/boot", fmt.Sprintf("cannot evaluate: %d older kernels in /boot not judged: cap reached (%d kernels, each with its own initramfs to read)", rest, maxKernels),
			KV{KeyPath, "/boot"}, KV{KeyCount, fmt.Sprint(rest)}, KV{KeyReason, "cap reached"}))
	}
	return out
}

// maxKernels bounds the kernels judged on one image, newest first: a
// distribution keeps two or three, and each may cost an initramfs read.
const maxKernels = 16

// checkKernelVirtio judges one kernel; newest is GRUB's default entry.
func checkKernelVirtio(in *Input, k facts.BootKernel, newest bool) Finding {
	subject := "/boot/" + k.Name
	km, err := facts.ReadKernelModules(in.Guest, k.Version, virtioBlk, virtioNet)
	if err != nil {
		return in.Fault(subject, err)
	}
	which := "kernel " + k.Version
	if newest {
		which += " (the newest, GRUB's default entry)"
	}
	ev := []KV{{"kernel", subject}, {KeyVersion, k.Version}, {"default", map[bool]string{true: "yes", false: "no"}[newest]}}
	if km.Config != "" {
		ev = append(ev, KV{"config", km.Config})
	}
	if km.Modules != "" {
		ev = append(ev, KV{"modules", km.Modules})
	}
	blk, net := km.Drivers[0], km.Drivers[1]
	if blk.Provision == facts.ProvisionUnknown || net.Provision == facts.ProvisionUnknown {
		f := in.Skip(NotEvaluable, fmt.Sprintf("%s: no /boot/config-%s and no modules.builtin or modules.dep under /lib/modules/%s: cannot tell how it provides virtio_blk and virtio_net", which, k.Version, k.Version))
		f.Subject, f.Evidence = subject, ev
		return f
	}
	blkHow, netHow := driverHow(blk), driverHow(net)
	var problems []string
	switch blk.Provision {
	case facts.ProvisionMissing:
		problems = append(problems, "virtio_blk is neither built in nor a module: the Droplet would not find its disk")
	case facts.ProvisionModule:
		path, err := facts.Initramfs(in.Guest, k.Version)
		if err != nil {
			return in.Fault(subject, err)
		}
		if path == "" {
			problems = append(problems, fmt.Sprintf("virtio_blk is a module and there is no initramfs (%s) to load it before the root filesystem: the Droplet would not find its disk", strings.Join(facts.InitramfsNames(k.Version), ", ")))
			blkHow = "module, no initramfs"
			break
		}
		name, sum, err := readInitramfs(in, path)
		if err != nil {
			return in.Fault(path, err)
		}
		ev = append(ev, KV{"initramfs", path}, KV{"initramfs_format", strings.Join(sum.Segments, "+")}, KV{"initramfs_entries", fmt.Sprint(sum.Entries)})
		if name == "" {
			problems = append(problems, fmt.Sprintf("virtio_blk is a module and %s does not hold it (%d entries read): the Droplet would not find its disk", path, sum.Entries))
			blkHow = "module, not in " + path
		} else {
			blkHow = "module in the initramfs (" + path + ": " + name + ")"
		}
	}
	if net.Provision == facts.ProvisionMissing {
		problems = append(problems, "virtio_net is neither built in nor a module: the Droplet would have no network")
	}
	ev = append(ev, KV{"virtio_blk", blkHow}, KV{"virtio_net", netHow})
	if len(problems) == 0 {
		return in.New(Pass, subject, fmt.Sprintf("%s: virtio_blk %s, virtio_net %s", which, shortHow(blkHow), shortHow(netHow)), ev...)
	}
	f := in.New(Warn, subject, which+": "+strings.Join(problems, "; "), ev...)
	f.Fix = fmt.Sprintf("add virtio_blk to the initramfs: echo virtio_blk >> /etc/initramfs-tools/modules && update-initramfs -u -k %s (Debian/Ubuntu), or dracut -f --add-drivers virtio_blk /boot/initramfs-%s.img %s (rpm); a kernel without virtio drivers needs replacing: apt-get install linux-image-cloud-amd64 (Debian), linux-image-virtual (Ubuntu), dnf install kernel (rpm)", k.Version, k.Version, k.Version)
	return f
}

// driverHow says how a driver is provided and which file says so.
func driverHow(d facts.DriverState) string {
	s := d.Provision.String()
	if d.Source != "" {
		s += " (" + d.Source
		if d.Path != "" {
			s += ": " + d.Path
		}
		s += ")"
	}
	return s
}

// shortHow is driverHow without its source, for the message.
func shortHow(how string) string {
	short, _, _ := strings.Cut(how, " (")
	return short
}

// initramfsAhead is what readInitramfs fetches of an initramfs at once
// over the network: a Debian cloud kernel's virtio_blk.ko lies about
// 3 MB into its 15 MB image, which is then read in two round trips.
const initramfsAhead = 2 << 20

// readInitramfs looks for virtio_blk's module in the initramfs at path,
// streaming it through the guest (its reads stop with the scan's context).
func readInitramfs(in *Input, path string) (string, initramfs.Summary, error) {
	f, err := in.Guest.Open(strings.TrimPrefix(path, "/"))
	if err != nil {
		return "", initramfs.Summary{}, err
	}
	defer f.Close()
	if p, ok := f.(interface{ Prefetch(n int64) }); ok {
		p.Prefetch(initramfsAhead)
	}
	return initramfs.Find(f, in.Opts.Initramfs, func(name string) bool { return facts.ModuleName(name) == virtioBlk.Module })
}
