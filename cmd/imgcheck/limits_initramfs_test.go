package main

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestInitramfsLimit: --limit initramfs reaches boot.virtio, whose
// initramfs over it is an ERROR (exit 3), and within it a PASS.
func TestInitramfsLimit(t *testing.T) {
	const ver = "5.15.0-105-generic"
	initrd := fixtures.MustInitramfs(t, fstest.MapFS{
		"usr/lib/modules/" + ver + "/kernel/drivers/block/virtio_blk.ko": fixtures.File(strings.Repeat("k", 64<<10), 0o644),
	}, fixtures.InitramfsOptions{Compression: "gzip"})
	tree := cleanTree()
	tree["boot/config-"+ver] = fixtures.File("CONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\n", 0o644)
	tree["boot/initrd.img-"+ver] = &fstest.MapFile{Data: initrd, Mode: 0o644}
	disk := gptImage(t, tree)
	out, _, code := runCmd(t, "scan", "--limit", "initramfs=16KiB", disk)
	if code != 3 || !strings.Contains(out, "[ERROR] boot.virtio: cannot evaluate: /boot/initrd.img-"+ver+": initramfs: cap reached") {
		t.Errorf("--limit initramfs=16KiB: exit %d, want 3 with boot.virtio ERROR:\n%s", code, out)
	}
	out, _, code = runCmd(t, "scan", "-v", "--limit", "initramfs=1MiB", disk)
	if code != 0 || !strings.Contains(out, "[PASS] boot.virtio: kernel "+ver) {
		t.Errorf("--limit initramfs=1MiB: exit %d, want 0 with boot.virtio PASS:\n%s", code, out)
	}
}
