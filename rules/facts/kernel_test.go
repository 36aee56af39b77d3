package facts_test

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules/facts"
)

var (
	blk = facts.Driver{Module: "virtio_blk", Option: "CONFIG_VIRTIO_BLK"}
	net = facts.Driver{Module: "virtio_net", Option: "CONFIG_VIRTIO_NET"}
)

func TestBootKernels(t *testing.T) {
	k := fixtures.File("MZ kernel", 0o644)
	g := testGuest(t, fstest.MapFS{
		"boot/vmlinuz-5.10.0-9-amd64":               k,
		"boot/vmlinuz-5.10.0-30-amd64":              k,
		"boot/vmlinux-5.10.0-30-amd64":              k, // the same version twice
		"boot/vmlinuz-6.1.0-26-amd64":               k,
		"boot/vmlinuz-0-rescue-0123456789abcdef":    k,
		"boot/vmlinuz":                              k,
		"boot/vmlinuz-6.12.0-empty":                 fixtures.File("", 0o644),
		"boot/vmlinuz-7.0.0-dir/x":                  k,
		"boot/config-6.1.0-26-amd64":                fixtures.File("x", 0o644),
		"boot/vmlinuz-6.1.0-link":                   fixtures.Symlink("vmlinuz-6.1.0-26-amd64"),
		"boot/vmlinuz-4.18.0-553.el8_10.x86_64":     k,
		"boot/vmlinuz-4.18.0-553.5.1.el8_10.x86_64": k,
	})
	ks, err := facts.BootKernels(g)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range ks {
		got = append(got, k.Version)
	}
	want := []string{"6.1.0-link", "6.1.0-26-amd64", "5.10.0-30-amd64", "5.10.0-9-amd64", "4.18.0-553.el8_10.x86_64", "4.18.0-553.5.1.el8_10.x86_64"} // sort -V's order
	if !slices.Equal(got, want) {
		t.Errorf("kernels %q, want %q", got, want)
	}
}

func TestCompareKernelVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"6.1.0-26-amd64", "6.1.0-9-amd64", 1},
		{"6.1.0-26-amd64", "6.1.0-26-amd64", 0},
		{"5.15.0-105-generic", "6.8.0-31-generic", -1},
		{"6.1.0-026", "6.1.0-26", 0},
		{"6.1", "6.1.0", -1},
		{"linux", "linux-lts", -1},
	} {
		if got := facts.CompareKernelVersions(c.a, c.b); got != c.want {
			t.Errorf("compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestReadKernelModules(t *testing.T) {
	const v = "6.1.0-26-amd64"
	config := func(s string) *fstest.MapFile {
		return fixtures.File("#\n# Linux/x86 6.1.0 Kernel Configuration\n"+s, 0o644)
	}
	cases := []struct {
		name     string
		tree     fstest.MapFS
		blk, net string // Provision (Source)
		modules  string
	}{
		{"config only", fstest.MapFS{"boot/config-" + v: config("CONFIG_VIRTIO_BLK=y\nCONFIG_VIRTIO_NET=m\n")},
			"built-in (/boot/config-" + v + ")", "module (/boot/config-" + v + ")", ""},
		{"config says not set", fstest.MapFS{"boot/config-" + v: config("# CONFIG_VIRTIO_BLK is not set\nCONFIG_VIRTIO_NET=y\n")},
			"missing (/boot/config-" + v + ")", "built-in (/boot/config-" + v + ")", ""},
		{"module lists", fstest.MapFS{
			"lib/modules/" + v + "/modules.builtin": fixtures.File("kernel/drivers/virtio/virtio.ko\nkernel/drivers/block/virtio_blk.ko\n", 0o644),
			"lib/modules/" + v + "/modules.dep":     fixtures.File("kernel/drivers/net/virtio_net.ko.xz: kernel/net/core/failover.ko.xz kernel/drivers/net/net_failover.ko.xz\nkernel/drivers/scsi/virtio_scsi.ko.xz:\n", 0o644),
		}, "built-in (/lib/modules/" + v + "/modules.builtin)", "module (/lib/modules/" + v + "/modules.dep)", "/lib/modules/" + v},
		{"config =m but the module is not installed", fstest.MapFS{
			"boot/config-" + v:                    config("CONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\n"),
			"lib/modules/" + v + "/modules.dep":   fixtures.File("kernel/drivers/net/virtio_net.ko: \n", 0o644),
			"lib/modules/" + v + "/modules.order": fixtures.File("", 0o644),
		}, "missing (/boot/config-" + v + ", /lib/modules/" + v + "/modules.dep)", "module (/lib/modules/" + v + "/modules.dep)", "/lib/modules/" + v},
		{"usr-merged, config beside the modules", fstest.MapFS{
			"usr/lib/modules/" + v + "/config":      config("CONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\n"),
			"usr/lib/modules/" + v + "/modules.dep": fixtures.File("kernel/drivers/block/virtio_blk.ko.zst: kernel/drivers/virtio/virtio_ring.ko.zst\nkernel/drivers/net/virtio-net.ko.zst:\n", 0o644),
		}, "module (/usr/lib/modules/" + v + "/modules.dep)", "module (/usr/lib/modules/" + v + "/modules.dep)", "/usr/lib/modules/" + v},
		{"nothing", fstest.MapFS{"boot/vmlinuz-" + v: fixtures.File("MZ", 0o644)}, "unknown", "unknown", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := facts.ReadKernelModules(testGuest(t, c.tree), v, blk, net)
			if err != nil {
				t.Fatal(err)
			}
			if k.Modules != c.modules {
				t.Errorf("modules dir %q, want %q", k.Modules, c.modules)
			}
			for i, want := range []string{c.blk, c.net} {
				d := k.Drivers[i]
				got := d.Provision.String()
				if d.Source != "" {
					got += " (" + d.Source + ")"
				}
				if got != want {
					t.Errorf("%s: %s, want %s", d.Module, got, want)
				}
			}
		})
	}
}

func TestKernelListOverCap(t *testing.T) {
	big := make([]byte, 17<<20)
	g := testGuest(t, fstest.MapFS{"lib/modules/v/modules.dep": &fstest.MapFile{Data: big, Mode: 0o644}})
	if _, err := facts.ReadKernelModules(g, "v", blk); err == nil {
		t.Fatal("a 17 MiB modules.dep was read")
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/drivers/block/virtio_blk.ko":                     "virtio_blk",
		"/lib/modules/v/kernel/drivers/block/virtio_blk.ko.xz":   "virtio_blk",
		"usr/lib/modules/v/kernel/drivers/net/virtio-net.ko.zst": "virtio_net",
		"lib/modules/v/kernel/drivers/block/virtio_blk.ko.gz":    "virtio_blk",
		"lib/modules/v/kernel/drivers/block/virtio_blk.ko.bz2":   "",
		"etc/modprobe.d/virtio_blk.conf":                         "",
		".ko":                                                    "",
	} {
		if got := facts.ModuleName(in); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInitramfsPath(t *testing.T) {
	for name, tree := range map[string]fstest.MapFS{
		"/boot/initrd.img-6.1":    {"boot/initrd.img-6.1": fixtures.File("x", 0o644), "boot/initramfs-6.1.img": fixtures.File("x", 0o644)},
		"/boot/initramfs-6.1.img": {"boot/initramfs-6.1.img": fixtures.File("x", 0o644)},
		"/boot/initrd-6.1":        {"boot/initrd-6.1": fixtures.Symlink("initrd-6.1.real"), "boot/initrd-6.1.real": fixtures.File("x", 0o644)},
		"":                        {"boot/initrd.img-6.1.old": fixtures.File("x", 0o644)},
	} {
		got, err := facts.Initramfs(testGuest(t, tree), "6.1")
		if err != nil || got != name {
			t.Errorf("Initramfs = %q, %v; want %q", got, err, name)
		}
	}
}

// TestCompareKernelVersionsSortV checks the order against GNU sort -V,
// the order grub-mkconfig's version_sort uses.
func TestCompareKernelVersionsSortV(t *testing.T) {
	sortV, err := exec.LookPath("sort")
	if err != nil {
		t.Skip("sort not found")
	}
	vs := []string{"6.1.0-26-amd64", "6.1.0-9-amd64", "6.1.0-26-cloud-amd64", "5.15.0-105-generic", "6.8.0-31-generic",
		"4.18.0-553.el8_10.x86_64", "4.18.0-553.5.1.el8_10.x86_64", "5.14.0-427.13.1.el9_4.x86_64", "6.12.9-arch1-1", "6.1.0-rc7", "6.1.0", "linux", "linux-lts", "6.10.1", "6.9.12"}
	cmd := exec.Command(sortV, "-V")
	cmd.Stdin = strings.NewReader(strings.Join(vs, "\n") + "\n")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("sort -V: %v", err)
	}
	want := strings.Fields(string(out))
	got := slices.Clone(vs)
	slices.SortFunc(got, facts.CompareKernelVersions)
	if !slices.Equal(got, want) {
		t.Errorf("order\n%q\nsort -V\n%q", got, want)
	}
}
