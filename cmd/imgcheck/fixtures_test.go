package main

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
)

// The secrets planted in the leaky image. No output format may contain
// any of the needles.
const (
	leakyHash = "$6$Ym9ndXNzYWx0$0dY7dnkUq1nXTq5vX7m1HRxvGmW1QeZ8Hn4o6c2VnE0uJ8mJm3wq5z4k1y9uQ2r7s1Tq4n0p8a6b2c3d4e5f6g"
	// A throwaway key made for this test with ssh-keygen -t ed25519.
	leakyKey = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBlo71rlrRuGkGzyWzVimeBmXpEw76TjqGv9ieXP0s6kgAAAJhJbbPSSW2z
0gAAAAtzc2gtZWQyNTUxOQAAACBlo71rlrRuGkGzyWzVimeBmXpEw76TjqGv9ieXP0s6kg
AAAEC7JyCtmVQh4eojPQDi1jX+H/AMCuuYmL9loR3uTQfdBGWjvWuWtG4aQbPJbNWKZ4GZ
ekTDvpOOoa/2J5c/SzqSAAAAFWJ1aWxkZXJAYnVpbGQtZHJvcGxldA==
-----END OPENSSH PRIVATE KEY-----
`
	leakyPub      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGWjvWuWtG4aQbPJbNWKZ4GZekTDvpOOoa/2J5c/SzqS builder@build-droplet\n"
	leakyToken    = "dop_v1_7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a"
	leakyPassword = "Sup3rS3cretDbPw"
)

// secretNeedles are fragments of the planted secrets that must never be
// printed: the hash body, the private key body, the token and the password.
var secretNeedles = []string{
	"Ym9ndXNzYWx0$0dY7dnk",
	"QyNTUxOQAAACBlo71rlrRuGkGzyWzVimeBmXpEw76TjqGv9ieXP0s6kgAAAJhJbbPSSW2z",
	"AAAEC7JyCtmVQh4eojPQDi1jX",
	"7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e",
	leakyPassword,
}

// cleanTree is a small Ubuntu 22.04 guest that passes the core checks.
func cleanTree() fstest.MapFS {
	return fstest.MapFS{
		"boot/vmlinuz-5.15.0-105-generic": fixtures.File("MZ kernel stand-in", 0o644),
		"boot/config-5.15.0-105-generic":  fixtures.File("CONFIG_VIRTIO_BLK=y\nCONFIG_VIRTIO_NET=y\n", 0o644), // Ubuntu builds virtio in
		"etc/os-release":                  fixtures.File("NAME=\"Ubuntu\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n", 0o644),
		"etc/passwd":                      fixtures.File("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0o644),
		"etc/shadow":                      fixtures.File("root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0o640),
		"etc/group":                       fixtures.File("root:x:0:\n", 0o644),
		"etc/fstab":                       fixtures.File("LABEL=cloudimg-rootfs / ext4 defaults 0 1\n", 0o644),
		"etc/machine-id":                  fixtures.File("", 0o444),
		"etc/default/ufw":                 fixtures.File("IPV6=yes\nENABLED=yes\n", 0o644),
		"etc/ssh/sshd_config":             fixtures.File("PermitRootLogin prohibit-password\n", 0o644),
		"etc/systemd/system/multi-user.target.wants/ufw.service": fixtures.Symlink("/lib/systemd/system/ufw.service"),
		"etc/systemd/system/multi-user.target.wants/ssh.service": fixtures.Symlink("/lib/systemd/system/ssh.service"),
		"lib/systemd/system/ufw.service":                         fixtures.File("[Unit]\nDescription=ufw\n", 0o644),
		"lib/systemd/system/ssh.service":                         fixtures.File("[Unit]\nDescription=ssh\n", 0o644),
		"usr/bin/cloud-init":                                     fixtures.File("#!/usr/bin/python3\n", 0o755),
		"usr/sbin/ufw":                                           fixtures.File("#!/usr/bin/python3\n", 0o755),
		"usr/sbin/sshd":                                          fixtures.File("\x7fELF", 0o755),
		"var/lib/dpkg/status": fixtures.File(dpkgEntry("cloud-init", "24.1.3-0ubuntu1~22.04.1", "all")+
			dpkgEntry("openssh-server", "1:8.9p1-3ubuntu0.10", "amd64")+dpkgEntry("ufw", "0.36.1-4ubuntu0.1", "all"), 0o644),
		"var/log":        fixtures.Dir(0o755),
		"var/log/syslog": fixtures.File("", 0o640),
		"root":           fixtures.Dir(0o700),
		"tmp":            fixtures.Dir(0o1777),
		"var/tmp":        fixtures.Dir(0o1777),
		"home":           fixtures.Dir(0o755),
	}
}

func dpkgEntry(name, version, arch string) string {
	return "Package: " + name + "\nStatus: install ok installed\nArchitecture: " + arch + "\nVersion: " + version + "\n\n"
}

// leakyTree is cleanTree with secrets left behind by the build: a root
// password hash, a private key, a token in a first-boot helper and a
// database URL with its password.
func leakyTree() fstest.MapFS {
	t := cleanTree()
	t["etc/shadow"] = fixtures.File("root:"+leakyHash+":19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0o640)
	t["root/.ssh"] = fixtures.Dir(0o700)
	t["root/.ssh/id_ed25519"] = fixtures.File(leakyKey, 0o600)
	t["root/.ssh/authorized_keys"] = fixtures.File(leakyPub, 0o600)
	t["root/.digitalocean_password"] = fixtures.File("root_mysql_pass=\""+leakyToken+"\"\n", 0o600)
	t["etc/environment"] = fixtures.File("PATH=\"/usr/bin:/bin\"\nDATABASE_URL=postgresql://doadmin:"+leakyPassword+"@db-postgresql-nyc3-1.b.db.ondigitalocean.com:25060/defaultdb?sslmode=require\n", 0o644)
	t["var/log/auth.log"] = fixtures.File(strings.Repeat("sshd[1]: Accepted publickey for root\n", 4), 0o640)
	return t
}

// image builds tree into an ext4 filesystem inside a GPT disk.
func gptImage(t *testing.T, tree fstest.MapFS) string {
	t.Helper()
	fsimg := fixtures.MustExt4(t, tree, fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: fsimg}}})
}
