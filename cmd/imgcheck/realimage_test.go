package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
		"ssh.server": false, "boot.kernel": false, "boot.loader": false, "boot.virtio": false, "disk.integrity": false, "disk.root-fs": false}
	info, _, _ := runCmd(t, "info", raw)
	xfsRoot := strings.Contains(info, " (xfs)\n")
	for _, f := range findings {
		rule, level := f["rule"].(string), f["level"].(string)
		if level == "error" {
			t.Errorf("%s is an ERROR on a real Debian disk: %v", rule, f["message"])
		}
		if rule == "disk.root-fs" && xfsRoot {
			// fixtures/real-debian.sh DIR xfs: the rule warns.
			if level != "warn" {
				t.Errorf("disk.root-fs is %s on an XFS root, want WARN", strings.ToUpper(level))
			}
			mustPass[rule] = true
			continue
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

// TestRealDebianBoots holds boot.loader and boot.kernel to what a machine
// does: the real Debian disk (IMGCHECK_REAL_DEBIAN) boots under QEMU from
// its MBR through GRUB to the root filesystem on a virtio disk, and the
// same disk with its MBR boot code zeroed, which boot.loader FAILs, does
// not boot. It needs qemu-system-x86_64 and about a minute (software
// emulation); the images are never written (-snapshot, and a copy).
func TestRealDebianBoots(t *testing.T) {
	raw, qemu := realDebianAndQEMU(t)
	broken := filepath.Join(t.TempDir(), "no-boot-code.raw")
	if out, err := exec.Command("cp", "--sparse=always", raw, broken).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	f, err := os.OpenFile(broken, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(make([]byte, 440), 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		disk, loader string
		boots        bool
	}{{raw, "pass", true}, {broken, "fail", false}} {
		if got := ruleLevel(t, tc.disk, "boot.loader"); got != tc.loader {
			t.Errorf("%s: boot.loader is %s, want %s", tc.disk, got, tc.loader)
		}
		console := bootConsole(t, qemu, tc.disk)
		mounted := rootMounted.MatchString(console)
		if mounted != tc.boots {
			t.Errorf("%s: booted to its root filesystem: %v, want %v; console ends:\n%s", tc.disk, mounted, tc.boots, tail(console, 1500))
		}
	}
}

// realDebianAndQEMU returns the real Debian disk (IMGCHECK_REAL_DEBIAN)
// and qemu-system-x86_64, or skips t.
func realDebianAndQEMU(t *testing.T) (raw, qemu string) {
	raw = os.Getenv("IMGCHECK_REAL_DEBIAN")
	if raw == "" {
		t.Skip("IMGCHECK_REAL_DEBIAN is not set")
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
	}
	return raw, qemu
}

// ruleLevel is the level of rule's first finding in a scan of disk.
func ruleLevel(t *testing.T, disk, rule string) string {
	t.Helper()
	var findings []map[string]any
	if err := json.Unmarshal([]byte(findingsJSON(t, disk, "marketplace")), &findings); err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f["rule"] == rule {
			return f["level"].(string)
		}
	}
	return "none"
}

// rootMounted matches what the kernel prints once it has mounted an ext4
// or XFS filesystem of the virtio disk.
var rootMounted = regexp.MustCompile(`EXT4-fs \(vda\d\): mounted filesystem|XFS \(vda\d\): Ending clean mount`)

// bootConsole boots disk read-only under QEMU (software emulation, virtio
// disk, no network) until its root filesystem is mounted or 4 minutes
// pass, and returns the serial console.
func bootConsole(t *testing.T, qemu, disk string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-accel", "tcg", "-m", "1024", "-nographic", "-snapshot", "-nic", "none",
		"-drive", "file="+disk+",if=virtio,format=raw", "-serial", "mon:stdio")
	var console lockedBuffer
	cmd.Stdout, cmd.Stderr = &console, &console
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return console.String()
		case <-tick.C:
			s := console.String()
			if rootMounted.MatchString(s) || strings.Contains(s, "No bootable device") || strings.Contains(s, "Boot failed") {
				cancel()
				<-done
				return s
			}
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tail(s string, n int) string {
	return s[max(0, len(s)-n):]
}
