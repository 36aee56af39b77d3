package imgcheck_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts/initramfs"
)

// virtioVer is the kernel version of the boot.virtio trees.
const virtioVer = "6.1.0-26-amd64"

// modulesTree is what an initramfs holds of a kernel's modules, with
// virtio_blk.ko or without.
func modulesTree(ver string, blk bool) fstest.MapFS {
	mods := "usr/lib/modules/" + ver + "/kernel/drivers/"
	tree := fstest.MapFS{
		"init":                       fixtures.File("#!/bin/sh\nexec /sbin/init\n", 0o755),
		"bin":                        fixtures.Symlink("usr/bin"),
		"usr/bin/busybox":            fixtures.File(strings.Repeat("\x7fELF", 4000), 0o755),
		mods + "net/virtio_net.ko":   fixtures.File("net", 0o644),
		mods + "scsi/virtio_scsi.ko": fixtures.File("scsi", 0o644),
		"usr/lib/modules/" + ver + "/modules.dep": fixtures.File("kernel/drivers/net/virtio_net.ko:\n", 0o644),
		"conf/initramfs.conf":                     fixtures.File("MODULES=dep\n", 0o644),
	}
	if blk {
		tree[mods+"block/virtio_blk.ko"] = fixtures.File("blk", 0o644)
	}
	return tree
}

// kernelFiles are a Debian kernel's files in the root: the kernel, its
// config and module lists (virtio_blk and virtio_net as modules unless
// builtin), and an initramfs when one is given.
func kernelFiles(tree fstest.MapFS, ver string, builtin bool, initrd []byte) {
	tree["boot/vmlinuz-"+ver] = fixtures.File("MZ kernel stand-in", 0o644)
	mode := "m"
	if builtin {
		mode = "y"
		tree["usr/lib/modules/"+ver+"/modules.builtin"] = fixtures.File("kernel/drivers/virtio/virtio.ko\nkernel/drivers/block/virtio_blk.ko\nkernel/drivers/net/virtio_net.ko\n", 0o644)
		tree["usr/lib/modules/"+ver+"/modules.dep"] = fixtures.File("kernel/drivers/scsi/sd_mod.ko:\n", 0o644)
	} else {
		tree["usr/lib/modules/"+ver+"/modules.builtin"] = fixtures.File("kernel/drivers/virtio/virtio.ko\n", 0o644)
		tree["usr/lib/modules/"+ver+"/modules.dep"] = fixtures.File("kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko\n", 0o644)
	}
	tree["boot/config-"+ver] = fixtures.File("CONFIG_VIRTIO=y\nCONFIG_VIRTIO_BLK="+mode+"\nCONFIG_VIRTIO_NET="+mode+"\n", 0o644)
	if initrd != nil {
		tree["boot/initrd.img-"+ver] = &fstest.MapFile{Data: initrd, Mode: 0o644}
	}
}

// virtioTree is the demo tree with kernel virtioVer instead of the demo's.
func virtioTree(builtin bool, initrd []byte) fstest.MapFS {
	tree := fixtures.DemoTree()
	delete(tree, "boot/"+fixtures.DemoKernel)
	kernelFiles(tree, virtioVer, builtin, initrd)
	return tree
}

func TestBootVirtio(t *testing.T) {
	withBlk := fixtures.MustInitramfs(t, modulesTree(virtioVer, true), fixtures.InitramfsOptions{Compression: "zstd", Microcode: true})
	withoutBlk := fixtures.MustInitramfs(t, modulesTree(virtioVer, false), fixtures.InitramfsOptions{Compression: "zstd", Microcode: true})
	noNet := virtioTree(true, nil)
	noNet["boot/config-"+virtioVer] = fixtures.File("CONFIG_VIRTIO_BLK=y\n# CONFIG_VIRTIO_NET is not set\n", 0o644)
	noNet["usr/lib/modules/"+virtioVer+"/modules.builtin"] = fixtures.File("kernel/drivers/block/virtio_blk.ko\n", 0o644)
	twoKernels := virtioTree(false, withBlk)
	kernelFiles(twoKernels, "6.1.0-9-amd64", false, withoutBlk)
	corrupt := append([]byte(nil), withBlk...)
	corrupt = append(corrupt[:len(corrupt)-200:len(corrupt)-200], make([]byte, 200)...)
	type want struct {
		level rules.Level
		msg   string
		ev    map[string]string
	}
	cases := []struct {
		name string
		tree fstest.MapFS
		want []want
	}{
		{"built in", virtioTree(true, nil), []want{{rules.Pass, "kernel " + virtioVer + " (the newest, GRUB's default entry): virtio_blk built-in, virtio_net built-in",
			map[string]string{"virtio_blk": "built-in (/lib/modules/" + virtioVer + "/modules.builtin: kernel/drivers/block/virtio_blk.ko)", "default": "yes", "config": "/boot/config-" + virtioVer, "kernel": "/boot/vmlinuz-" + virtioVer}}}},
		{"module in the initramfs, microcode first", virtioTree(false, withBlk), []want{{rules.Pass, "virtio_blk module in the initramfs, virtio_net module",
			map[string]string{"virtio_blk": "module in the initramfs (/boot/initrd.img-" + virtioVer + ": usr/lib/modules/" + virtioVer + "/kernel/drivers/block/virtio_blk.ko)",
				"virtio_net": "module (/lib/modules/" + virtioVer + "/modules.dep: kernel/drivers/net/virtio_net.ko)", "initramfs_format": "cpio+zstd"}}}},
		{"module missing from the initramfs", virtioTree(false, withoutBlk), []want{{rules.Warn, "virtio_blk is a module and /boot/initrd.img-" + virtioVer + " does not hold it",
			map[string]string{"virtio_blk": "module, not in /boot/initrd.img-" + virtioVer, "initramfs_entries": "21"}}}},
		{"no initramfs", virtioTree(false, nil), []want{{rules.Warn, "virtio_blk is a module and there is no initramfs (/boot/initrd.img-" + virtioVer + ", /boot/initramfs-" + virtioVer + ".img",
			map[string]string{"virtio_blk": "module, no initramfs"}}}},
		{"no virtio_net", noNet, []want{{rules.Warn, "virtio_net is neither built in nor a module: the Droplet would have no network",
			map[string]string{"virtio_net": "missing (/boot/config-" + virtioVer + ", /lib/modules/" + virtioVer + "/modules.builtin, /lib/modules/" + virtioVer + "/modules.dep)"}}}},
		{"two kernels, the older without virtio_blk in its initramfs", twoKernels, []want{
			{rules.Pass, "kernel " + virtioVer + " (the newest, GRUB's default entry)", map[string]string{"default": "yes"}},
			{rules.Warn, "kernel 6.1.0-9-amd64: virtio_blk is a module and /boot/initrd.img-6.1.0-9-amd64 does not hold it", map[string]string{"default": "no"}}}},
		{"corrupt initramfs", virtioTree(false, corrupt), []want{{rules.Error, "cannot evaluate: /boot/initrd.img-" + virtioVer + ": initramfs: zstd at 0x", nil}}},
		{"demo: no config, no modules", fixtures.DemoTree(), []want{{rules.Skip, "cannot tell how it provides virtio_blk and virtio_net", map[string]string{"kernel": "/boot/" + fixtures.DemoKernel}}}},
		{"no kernel", withoutKernel(false), []want{{rules.Skip, "no vmlinuz-<version> or vmlinux-<version> in /boot", nil}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := findingsOf(t, scanImage(t, treeDisk(t, c.tree), rules.Marketplace).Results, "boot.virtio")
			if len(fs) != len(c.want) {
				t.Fatalf("%d findings %+v, want %d", len(fs), fs, len(c.want))
			}
			for i, w := range c.want {
				f := fs[i]
				if f.Level != w.level || !strings.Contains(f.Message, w.msg) {
					t.Errorf("finding %d: %s %q, want %s containing %q", i, f.Level, f.Message, w.level, w.msg)
				}
				for k, v := range w.ev {
					if f.Get(k) != v {
						t.Errorf("finding %d: %s = %q, want %q (%+v)", i, k, f.Get(k), v, f.Evidence)
					}
				}
				if f.Level == rules.Warn && f.Fix == "" {
					t.Errorf("finding %d: WARN without a fix", i)
				}
			}
		})
	}
}

// TestBootVirtioCompressions reads an initramfs made by each tool the
// distributions use, behind a microcode archive or not.
func TestBootVirtioCompressions(t *testing.T) {
	for _, comp := range []string{"", "gzip", "zstd", "xz", "lz4"} {
		for _, ucode := range []bool{false, true} {
			img := fixtures.MustInitramfs(t, modulesTree(virtioVer, true), fixtures.InitramfsOptions{Compression: comp, Microcode: ucode})
			want := strings.TrimPrefix(strings.TrimPrefix("cpio+"+comp, map[bool]string{true: "", false: "cpio+"}[ucode]), "+")
			if comp == "" {
				want = map[bool]string{true: "cpio+cpio", false: "cpio"}[ucode]
			}
			fs := findingsOf(t, scanImage(t, treeDisk(t, virtioTree(false, img)), rules.Marketplace).Results, "boot.virtio")
			if len(fs) != 1 || fs[0].Level != rules.Pass || fs[0].Get("initramfs_format") != want {
				t.Errorf("%s, microcode %v: %+v, want one PASS with initramfs_format %q", comp, ucode, fs, want)
			}
		}
	}
}

// TestBootVirtioCap: an initramfs over the unpacked-bytes limit is an
// ERROR saying so, never a PASS or a WARN.
func TestBootVirtioCap(t *testing.T) {
	img := fixtures.MustInitramfs(t, modulesTree(virtioVer, true), fixtures.InitramfsOptions{Compression: "gzip", Microcode: true})
	disk := treeDisk(t, virtioTree(false, img))
	sel, err := imgcheck.Select(rules.Marketplace, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sel.Options.Initramfs = initramfs.Limits{Bytes: 8192}
	tg, err := imgcheck.Open(t.Context(), disk, imgcheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	fs := findingsOf(t, imgcheck.Scan(t.Context(), tg, sel).Results, "boot.virtio")
	if len(fs) != 1 || fs[0].Level != rules.Error || !strings.Contains(fs[0].Message, "cap reached") || !strings.Contains(fs[0].Message, "more than the initramfs limit leaves") {
		t.Fatalf("%+v, want one ERROR: cap reached", fs)
	}
}

// TestBootVirtioNotWholeDisk: a bare filesystem and a --root scan have no
// boot path to judge.
func TestBootVirtioNotWholeDisk(t *testing.T) {
	fs := findingsOf(t, scanImage(t, demoDisk(t, "none"), rules.Marketplace).Results, "boot.virtio")
	if len(fs) != 1 || fs[0].Level != rules.Skip || !strings.Contains(fs[0].Message, "bare filesystem") {
		t.Fatalf("bare filesystem: %+v", fs)
	}
	dir := t.TempDir()
	if err := fixtures.Materialize(dir, virtioTree(false, nil)); err != nil {
		t.Fatal(err)
	}
	sel, err := imgcheck.Select(rules.Marketplace, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := imgcheck.Open(t.Context(), dir, imgcheck.Options{Root: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	fs = findingsOf(t, imgcheck.Scan(t.Context(), tg, sel).Results, "boot.virtio")
	if len(fs) != 1 || fs[0].Level != rules.Skip || !strings.Contains(fs[0].Message, "--root scan") {
		t.Fatalf("--root: %+v", fs)
	}
}

// TestBootVirtioRealKernel runs boot.virtio on a real Debian kernel
// package's files, opt-in: IMGCHECK_REAL_KERNEL is the tree dpkg-deb -x
// made of a linux-image-*-amd64 package (nothing of it is run). Its
// config and modules.builtin go into the root, and its real virtio
// modules into a zstd initramfs laid out as mkinitramfs lays it out; the
// package ships no modules.dep (depmod makes it on install), so the
// config decides.
func TestBootVirtioRealKernel(t *testing.T) {
	dir := os.Getenv("IMGCHECK_REAL_KERNEL")
	if dir == "" {
		t.Skip("IMGCHECK_REAL_KERNEL not set (the tree of dpkg-deb -x linux-image-6.1.0-50-cloud-amd64_*.deb)")
	}
	configs, _ := filepath.Glob(filepath.Join(dir, "boot/config-*"))
	if len(configs) != 1 {
		t.Fatalf("want one boot/config-* in %s, found %q", dir, configs)
	}
	ver := strings.TrimPrefix(filepath.Base(configs[0]), "config-")
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	initrd := fstest.MapFS{"init": fixtures.File("#!/bin/sh\n", 0o755)}
	for _, m := range []string{"block/virtio_blk.ko", "net/virtio_net.ko", "virtio/virtio.ko", "virtio/virtio_ring.ko", "virtio/virtio_pci.ko"} {
		p := "lib/modules/" + ver + "/kernel/drivers/" + m
		initrd["usr/"+p] = &fstest.MapFile{Data: read(p), Mode: 0o644}
	}
	tree := fixtures.DemoTree()
	delete(tree, "boot/"+fixtures.DemoKernel)
	tree["boot/vmlinuz-"+ver] = &fstest.MapFile{Data: read("boot/vmlinuz-" + ver)[:4096], Mode: 0o644}
	tree["boot/config-"+ver] = &fstest.MapFile{Data: read("boot/config-" + ver), Mode: 0o644}
	tree["usr/lib/modules/"+ver+"/modules.builtin"] = &fstest.MapFile{Data: read("lib/modules/" + ver + "/modules.builtin"), Mode: 0o644}
	tree["boot/initrd.img-"+ver] = &fstest.MapFile{Data: fixtures.MustInitramfs(t, initrd, fixtures.InitramfsOptions{Compression: "zstd", Microcode: true}), Mode: 0o644}
	fs := findingsOf(t, scanImage(t, treeDisk(t, tree), rules.Marketplace).Results, "boot.virtio")
	t.Logf("%+v", fs)
	if len(fs) != 1 || fs[0].Level != rules.Pass || fs[0].Get("virtio_net") != "module (/boot/config-"+ver+")" ||
		fs[0].Get("virtio_blk") != "module in the initramfs (/boot/initrd.img-"+ver+": usr/lib/modules/"+ver+"/kernel/drivers/block/virtio_blk.ko)" {
		t.Fatalf("%+v", fs)
	}
}

// BenchmarkBootVirtio runs boot.virtio alone on a disk whose initramfs
// (zstd, microcode first) holds 16 MiB of module-like data after
// virtio_blk ("found": the walk stops there) or without it ("missing":
// the whole archive is read), reporting the bytes read from the image.
func BenchmarkBootVirtio(b *testing.B) {
	for _, blk := range []bool{true, false} {
		tree := modulesTree(virtioVer, blk)
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := range 256 {
			data := make([]byte, 64<<10)
			for j := range data {
				data[j] = byte(rnd.IntN(16)) // about 2:1 compressible, as modules are
			}
			tree[fmt.Sprintf("usr/lib/modules/%s/kernel/fs/m%03d.ko", virtioVer, i)] = &fstest.MapFile{Data: data, Mode: 0o644}
		}
		img := fixtures.MustInitramfs(b, tree, fixtures.InitramfsOptions{Compression: "zstd", Microcode: true})
		disk := treeDisk(b, virtioTree(false, img))
		sel, err := imgcheck.Select(rules.Marketplace, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		sel.Rules = slices.DeleteFunc(sel.Rules, func(r rules.Rule) bool { return r.ID != "boot.virtio" })
		sel.Stats = true
		b.Run(map[bool]string{true: "found", false: "missing"}[blk], func(b *testing.B) {
			var res *imgcheck.Result
			for b.Loop() {
				tg, err := imgcheck.Open(b.Context(), disk, imgcheck.Options{})
				if err != nil {
					b.Fatal(err)
				}
				res = imgcheck.Scan(b.Context(), tg, sel)
				tg.Close()
			}
			if f := res.Results[0].Findings; len(f) != 1 || (f[0].Level == rules.Pass) != blk {
				b.Fatalf("%+v", f)
			}
			b.ReportMetric(float64(res.Stats.BytesRead), "bytes-read/op")
			b.ReportMetric(float64(res.Stats.ReadCalls), "read-calls/op")
		})
	}
}

// TestBootVirtioRealDebian scans a real Debian 12 disk, opt-in:
// IMGCHECK_REAL_DEBIAN is the deb12.raw fixtures/real-debian.sh builds
// (debootstrap, linux-image-cloud-amd64, update-initramfs). boot.virtio
// must pass, and the initramfs member it names and its position must be
// what GNU cpio -t lists in the decompressed archive, read out of the
// image through the guest.
func TestBootVirtioRealDebian(t *testing.T) {
	raw := os.Getenv("IMGCHECK_REAL_DEBIAN")
	if raw == "" {
		t.Skip("IMGCHECK_REAL_DEBIAN is not set (fixtures/real-debian.sh DIR builds DIR/deb12.raw)")
	}
	sel, err := imgcheck.Select(rules.Marketplace, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := imgcheck.Open(t.Context(), raw, imgcheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	fs := findingsOf(t, imgcheck.Scan(t.Context(), tg, sel).Results, "boot.virtio")
	for _, f := range fs {
		t.Logf("%s %s\n%+v", f.Level, f.Message, f.Evidence)
		if f.Level != rules.Pass {
			t.Errorf("%s on a real Debian disk: %s", f.Level, f.Message)
		}
		initrd := f.Get("initramfs")
		if initrd == "" {
			continue
		}
		data, err := tg.Guest().ReadFileLimit(strings.TrimPrefix(initrd, "/"), 512<<20)
		if err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(t.TempDir(), "initrd")
		if err := os.WriteFile(copied, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var list bytes.Buffer
		cmd := exec.Command("sh", "-c", `case "$(head -c 2 "$1" | od -An -tx1 | tr -d ' ')" in 1f8b) gzip -dc "$1";; 28b5) zstd -dc "$1";; *) cat "$1";; esac | cpio -it --quiet`, "sh", copied)
		cmd.Stdout = &list
		if err := cmd.Run(); err != nil {
			t.Skipf("cpio -t oracle: %v", err)
		}
		names := strings.Fields(list.String())
		module := strings.TrimSuffix(strings.TrimPrefix(f.Get("virtio_blk"), "module in the initramfs ("+initrd+": "), ")")
		at := slices.Index(names, module)
		if at < 0 {
			t.Errorf("cpio -t does not list %q", module)
		}
		if got := f.Get("initramfs_entries"); got != fmt.Sprint(at+1) {
			t.Errorf("initramfs_entries %s, cpio -t lists virtio_blk as member %d of %d", got, at+1, len(names))
		}
	}
}

// TestBootVirtioKernelCap: past 16 kernels the older ones are an ERROR
// saying so, not silently left out.
func TestBootVirtioKernelCap(t *testing.T) {
	tree := virtioTree(true, nil)
	for i := range 17 {
		kernelFiles(tree, fmt.Sprintf("5.10.0-%d-amd64", i+1), true, nil)
	}
	fs := findingsOf(t, scanImage(t, treeDisk(t, tree), rules.Marketplace).Results, "boot.virtio")
	if len(fs) != 17 || fs[0].Get("version") != virtioVer || fs[15].Get("version") != "5.10.0-3-amd64" {
		t.Fatalf("%d findings, want the 16 newest kernels and one ERROR: %+v", len(fs), fs)
	}
	if last := fs[16]; last.Level != rules.Error || !strings.Contains(last.Message, "2 older kernels in /boot not judged: cap reached (16 kernels") {
		t.Errorf("last finding %s %q", last.Level, last.Message)
	}
}
