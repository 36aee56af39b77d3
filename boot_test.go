package imgcheck_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// bootUUID is the UUID of the separate /boot filesystems built here.
const bootUUID = "0b0b0b0b-1111-4222-8333-444455556666"

// treeDisk puts tree in an ext4 root on a GPT disk, after the extra
// partitions given.
func treeDisk(t *testing.T, tree fstest.MapFS, extra ...fixtures.Part) string {
	t.Helper()
	root := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Size: 64 << 20, Label: "root", UUID: fixtures.DemoRootUUID})
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: append(extra, fixtures.Part{Type: "linux", Image: root})})
}

// withoutKernel is the demo tree with /boot empty, and fstab naming a
// separate /boot when fstab is set.
func withoutKernel(separateBoot bool) fstest.MapFS {
	tree := fixtures.DemoTree()
	delete(tree, "boot/"+fixtures.DemoKernel)
	tree["boot"] = fixtures.Dir(0o755)
	if separateBoot {
		tree["etc/fstab"] = fixtures.File("UUID="+fixtures.DemoRootUUID+" / ext4 errors=remount-ro 0 1\nUUID="+bootUUID+" /boot ext4 defaults 0 2\n", 0o644)
	}
	return tree
}

func TestBootKernel(t *testing.T) {
	bootFS := fixtures.MustExt4(t, fstest.MapFS{"vmlinuz-6.1.0-26-amd64": fixtures.File("MZ kernel", 0o644), "lost+found": fixtures.Dir(0o700)},
		fixtures.Ext4Options{Size: 8 << 20, Label: "boot", UUID: bootUUID})
	emptyKernel := withoutKernel(false)
	emptyKernel["boot/vmlinuz-6.1.0-26-amd64"] = fixtures.File("", 0o644)
	onlyConfig := withoutKernel(false)
	onlyConfig["boot/config-6.1.0-26-amd64"] = fixtures.File("CONFIG_VIRTIO_BLK=y\n", 0o644)
	cases := []struct {
		name  string
		disk  string
		level rules.Level
		msg   string
	}{
		{"demo", treeDisk(t, fixtures.DemoTree()), rules.Pass, "kernel in /boot: " + fixtures.DemoKernel},
		{"no kernel", treeDisk(t, onlyConfig), rules.Fail, "no kernel in /boot"},
		{"empty kernel file", treeDisk(t, emptyKernel), rules.Fail, "no kernel in /boot"},
		{"separate /boot present", treeDisk(t, withoutKernel(true), fixtures.Part{Type: "linux", Image: bootFS}), rules.Pass, "kernel in /boot: vmlinuz-6.1.0-26-amd64"},
		{"separate /boot missing", treeDisk(t, withoutKernel(true)), rules.Fail, "/boot is a separate filesystem (UUID=" + bootUUID + " in /etc/fstab) that is not in the image"},
		{"bare filesystem", demoDisk(t, "none"), rules.Skip, "bare filesystem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := findingsOf(t, scanImage(t, c.disk, rules.Marketplace).Results, "boot.kernel")
			if len(fs) != 1 || fs[0].Level != c.level || !strings.Contains(fs[0].Message, c.msg) {
				t.Fatalf("%+v, want one %s containing %q", fs, c.level, c.msg)
			}
			if c.level == rules.Fail && (fs[0].Fix == "" || fs[0].Get("path") != "/boot") {
				t.Errorf("FAIL evidence %+v, fix %q", fs[0].Evidence, fs[0].Fix)
			}
		})
	}
}
