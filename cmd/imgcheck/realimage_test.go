package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestRealDebian scans a real Debian 12 disk, as fixtures/real-debian.sh
// builds it with debootstrap (cloud kernel and initramfs, GRUB, cloud-init,
// openssh-server, ufw), in every container it writes. It is opt-in, as the
// build needs the network and ten minutes: set IMGCHECK_REAL_DEBIAN to the
// deb12.raw the script made.
//
// A real distribution must not trip the boot, cloud-init and network
// rules, nothing may be an ERROR, and every container must find what the
// raw disk finds, in both profiles.
func TestRealDebian(t *testing.T) {
	raw := os.Getenv("IMGCHECK_REAL_DEBIAN")
	if raw == "" {
		t.Skip("IMGCHECK_REAL_DEBIAN is not set (fixtures/real-debian.sh DIR builds DIR/deb12.raw)")
	}
	var findings []map[string]any
	if err := json.Unmarshal([]byte(findingsJSON(t, raw, "marketplace")), &findings); err != nil {
		t.Fatal(err)
	}
	mustPass := map[string]bool{"os.supported": false, "os.release": false, "cloudinit.installed": false,
		"cloudinit.datasource": false, "cloudinit.network": false, "net.static-config": false,
		"ssh.server": false, "boot.kernel": false, "boot.loader": false, "disk.integrity": false, "disk.root-fs": false}
	for _, f := range findings {
		rule, level := f["rule"].(string), f["level"].(string)
		if level == "error" {
			t.Errorf("%s is an ERROR on a real Debian disk: %v", rule, f["message"])
		}
		if _, ok := mustPass[rule]; ok {
			if level != "pass" {
				t.Errorf("%s is %s on a real Debian disk: %v", rule, strings.ToUpper(level), f["message"])
			}
			mustPass[rule] = true
		}
	}
	for rule, seen := range mustPass {
		if !seen {
			t.Errorf("%s reported nothing", rule)
		}
	}
	base := strings.TrimSuffix(raw, ".raw")
	for _, profile := range []string{"marketplace", "img_check"} {
		want := findingsJSON(t, raw, profile)
		for _, c := range []string{base + ".qcow2", base + ".vmdk", base + ".vhdx", base + ".vdi", base + ".vpc", raw + ".gz"} {
			if _, err := os.Stat(c); err != nil {
				t.Errorf("%s: %v", c, err)
				continue
			}
			if got := findingsJSON(t, c, profile); got != want {
				t.Errorf("%s (%s) differs from the raw disk: %s", c, profile, firstDiff(got, want))
			}
		}
	}
}
