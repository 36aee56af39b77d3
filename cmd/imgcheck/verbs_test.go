package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

func TestInfo(t *testing.T) {
	leaky := gptImage(t, leakyTree())
	out, stderr, code := runCmd(t, "info", "--stats", leaky)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "info-leaky.txt", normalize(out, map[string]string{leaky: "leaky.raw"}))
	if !strings.HasPrefix(stderr, "stats: "+leaky+": ") || !strings.Contains(stderr, "bytes read in") {
		t.Errorf("--stats line: %q", stderr)
	}

	out, _, code = runCmd(t, "info", "--json", "--stats", leaky)
	var doc infoDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
		t.Fatalf("info --json: exit %d, %v\n%s", code, err, out)
	}
	if doc.PartitionTable == nil || doc.PartitionTable.Scheme != "gpt" || len(doc.Filesystems) != 1 ||
		doc.Filesystems[0].Label != "cloudimg-rootfs" || doc.OS.VersionID != "22.04" || len(doc.Fstab) != 1 {
		t.Errorf("info --json: %+v", doc)
	}
	if doc.Stats == nil || doc.Stats.BytesRead == 0 || doc.Stats.ReadCalls == 0 {
		t.Errorf("info --json --stats: %+v", doc.Stats)
	}
}

func TestInfoQCOW2(t *testing.T) {
	raw := gptImage(t, cleanTree())
	q := fixtures.MustQCOW2(t, raw, fixtures.QCOW2Options{})
	out, stderr, code := runCmd(t, "info", "--json", q)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc infoDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Container) == 0 || doc.Container[0].Format != "qcow2" || doc.VirtualSize != 69206016 || doc.OS.Name != "Ubuntu" {
		t.Errorf("qcow2 info: %+v", doc)
	}
}

func TestLsAndCat(t *testing.T) {
	leaky := gptImage(t, leakyTree())
	out, _, code := runCmd(t, "ls", "-R", leaky, "/root")
	if code != 0 {
		t.Fatalf("ls exit %d", code)
	}
	golden(t, "ls-root.txt", out)

	out, _, code = runCmd(t, "ls", leaky, "/etc/systemd/system/multi-user.target.wants")
	if code != 0 || !strings.Contains(out, "lrwxrwxrwx") || !strings.Contains(out, "ufw.service -> /lib/systemd/system/ufw.service") {
		t.Errorf("ls of links: exit %d\n%s", code, out)
	}
	out, _, code = runCmd(t, "ls", leaky, "/tmp/..")
	if code != 0 || !strings.Contains(out, "drwxrwxrwt") || !strings.Contains(out, " tmp") {
		t.Errorf("ls /: exit %d\n%s", code, out)
	}

	out, _, code = runCmd(t, "cat", leaky, "/etc/os-release")
	if code != 0 || out != string(cleanTree()["etc/os-release"].Data) {
		t.Errorf("cat: exit %d\n%q", code, out)
	}
	// A link is resolved inside the guest: ../../etc/os-release from
	// /lib/systemd cannot reach the host.
	_, stderr, code := runCmd(t, "cat", leaky, "/../../../../etc/hostname")
	if code != 3 || !strings.Contains(stderr, "not exist") {
		t.Errorf("cat of a host path: exit %d %q", code, stderr)
	}
}

func TestRulesMarkdown(t *testing.T) {
	out, _, code := runCmd(t, "rules", "--markdown")
	if code != 0 || !strings.HasPrefix(out, "| Rule | Profiles |") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, r := range rules.All() {
		if !strings.Contains(out, "| [`"+r.ID+"`](docs/rules.md#"+strings.ReplaceAll(r.ID, ".", "")+") |") {
			t.Errorf("rule %s missing", r.ID)
		}
	}
	plain, _, _ := runCmd(t, "rules")
	if !strings.Contains(plain, "pkg.mongodb-sspl") || !strings.Contains(plain, "off by default") {
		t.Errorf("rules table lacks the opt-in rule:\n%s", plain)
	}
}

func TestDiff(t *testing.T) {
	old := cleanTree()
	newer := leakyTree()
	newer["etc/passwd"] = fixtures.File(string(old["etc/passwd"].Data)+"deploy:x:1000:1000::/home/deploy:/bin/bash\n", 0o644)
	newer["var/lib/dpkg/status"] = fixtures.File(dpkgEntry("cloud-init", "24.4-0ubuntu1~22.04.1", "all")+
		dpkgEntry("openssh-server", "1:8.9p1-3ubuntu0.10", "amd64")+dpkgEntry("nginx", "1.18.0-6ubuntu14.4", "amd64")+dpkgEntry("curl", "7.81.0-1ubuntu1.18", "amd64"), 0o644)
	newer["etc/os-release"] = fixtures.File("NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nVERSION_CODENAME=noble\n", 0o644)
	newer["boot/vmlinuz-6.8.0-45-generic"] = fixtures.File("kernel", 0o600)
	a, b := gptImage(t, old), gptImage(t, newer)
	out, stderr, code := runCmd(t, "diff", a, b)
	if code != 1 {
		t.Fatalf("exit %d, want 1: the newer image has FAILs the older has not: %s", code, stderr)
	}
	for _, want := range []string{
		"OS: Ubuntu 22.04.4 LTS -> Ubuntu 24.04.1 LTS",
		"Kernels: 5.15.0-105-generic -> 5.15.0-105-generic 6.8.0-45-generic",
		"Packages installed: 3 -> 4",
		"+ deploy (uid 1000)",
		"+ SHA256:1e1vi4IyfD3pakCTyk7HJn6rym9n/llq1PcdEH4wrQc",
		"+ nginx 1.18.0-6ubuntu14.4",
		"- ufw 0.36.1-4ubuntu0.1",
		"~ cloud-init 24.1.3-0ubuntu1~22.04.1 -> 24.4-0ubuntu1~22.04.1 (upgraded)",
		"+ [FAIL] ssh.private-keys:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	rev, _, code := runCmd(t, "diff", b, a)
	if code != 0 || !strings.Contains(rev, "- [FAIL] ssh.private-keys:") || !strings.Contains(rev, "(downgraded)") {
		t.Errorf("reverse diff: exit %d, want 0 (FAILs fixed, none new) and the fixed finding:\n%s", code, rev)
	}
	js, _, _ := runCmd(t, "diff", "--json", a, b)
	if !strings.Contains(js, `"os": {`) || !strings.Contains(js, `"new_fail": true`) {
		t.Errorf("diff --json lacks the OS change or new_fail:\n%s", js)
	}
	dir := t.TempDir()
	if err := fixtures.Materialize(dir, newer); err != nil {
		t.Fatal(err)
	}
	fromDir, _, code := runCmd(t, "diff", "--root", dir, a)
	if code != 0 || !strings.Contains(fromDir, "- deploy (uid 1000)") || !strings.Contains(fromDir, "+ ufw 0.36.1-4ubuntu0.1") {
		t.Errorf("diff --root DIR IMAGE: exit %d\n%s", code, fromDir)
	}
	same, _, _ := runCmd(t, "diff", a, a)
	if !strings.Contains(same, "no differences") {
		t.Errorf("diff of an image with itself:\n%s", same)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(out, "imgcheck ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestRulesFormats: `rules --format json` lists every rule for tools,
// `rules explain` prints a rule's section of docs/rules.md.
func TestRulesFormats(t *testing.T) {
	out, _, code := runCmd(t, "rules", "--format", "json")
	var raw []map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil || code != 0 {
		t.Fatalf("rules --format json: exit %d, %v", code, err)
	}
	ids := map[string]bool{}
	for _, r := range raw {
		id, _ := r["id"].(string)
		ids[id] = true
		for _, k := range []string{"title", "profiles", "levels", "help_uri", "why", "fix"} {
			if v, ok := r[k]; !ok || v == "" || v == nil {
				t.Errorf("%s: %s missing", id, k)
			}
		}
	}
	if !ids["accounts.password"] || !ids["image.unreadable"] {
		t.Errorf("rules --format json lacks rules: %v", ids)
	}
	explain, _, code := runCmd(t, "rules", "explain", "ssh.authorized-keys")
	if code != 0 || !strings.HasPrefix(explain, "## `ssh.authorized-keys`") || !strings.Contains(explain, "**Fix.**") || !strings.Contains(explain, "| FAIL |") {
		t.Errorf("rules explain: exit %d:\n%s", code, explain)
	}
	if _, stderr, code := runCmd(t, "rules", "explain", "no.such-rule"); code != 2 || !strings.Contains(stderr, "unknown rule") {
		t.Errorf("explain of an unknown rule: exit %d, %q", code, stderr)
	}
}
