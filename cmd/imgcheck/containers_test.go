package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// A containerCase is the sample disk converted by qemu-img to one
// container format that imgcheck reads.
type containerCase struct {
	name, format string
	options      []string // qemu-img -o creation options
	// siblings says the file is a descriptor naming extent files beside
	// it: it cannot be read as a remote object or from a compressed upload.
	siblings bool
}

// containerCases are every container format and subformat qemu-img
// writes that imgcheck reads. The VHDs are made with force_size=on, so
// that their virtual size is the raw disk's and not rounded to a CHS
// geometry.
var containerCases = []containerCase{
	{"vmdk-monolithicSparse", "vmdk", []string{"subformat=monolithicSparse"}, false},
	{"vmdk-streamOptimized", "vmdk", []string{"subformat=streamOptimized"}, false},
	{"vmdk-monolithicFlat", "vmdk", []string{"subformat=monolithicFlat"}, true},
	{"vmdk-twoGbMaxExtentSparse", "vmdk", []string{"subformat=twoGbMaxExtentSparse"}, true},
	{"vhdx-dynamic", "vhdx", []string{"subformat=dynamic"}, false},
	{"vhdx-fixed", "vhdx", []string{"subformat=fixed"}, false},
	{"vdi-dynamic", "vdi", nil, false},
	{"vdi-static", "vdi", []string{"static=on"}, false},
	{"vpc-dynamic", "vpc", []string{"subformat=dynamic", "force_size=on"}, false},
	{"vpc-fixed", "vpc", []string{"subformat=fixed", "force_size=on"}, false},
}

// sampleDebianDisk builds (or reuses) a small GPT disk holding the demo
// Debian root: a BIOS boot partition and the ext4 root with the UUID its
// fstab names.
func sampleDebianDisk(t testing.TB) string {
	t.Helper()
	root := fixtures.MustExt4(t, fixtures.DemoTree(), fixtures.Ext4Options{Size: 32 << 20, Label: fixtures.DemoRootLabel, UUID: fixtures.DemoRootUUID})
	return fixtures.MustDisk(t, fixtures.Layout{DiskSize: 40 << 20, Parts: []fixtures.Part{
		{Type: "bios-boot", Size: 1 << 20, Name: "bios"},
		{Type: "linux", Image: root, Size: fixtures.Rest, Name: "root"},
	}})
}

// findingsJSON scans target in profile and returns its findings as
// indented JSON without what describes the container: disk.upload-format,
// which judges the container format, and the other disk rules' messages,
// evidence and fixes (their rule, level and subject stay).
func findingsJSON(t *testing.T, target, profile string, extra ...string) string {
	t.Helper()
	args := append([]string{"scan", "--format", "json", "--hash=false", "--profile", profile}, extra...)
	out, stderr, code := runCmd(t, append(args, target)...)
	if code > 1 {
		t.Fatalf("scan --profile %s %s: exit %d: %s", profile, target, code, stderr)
	}
	var doc struct {
		Images []struct {
			Error    string           `json:"error"`
			Findings []map[string]any `json:"findings"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("scan %s: %v\n%s", target, err, out)
	}
	if len(doc.Images) != 1 || len(doc.Images[0].Findings) == 0 {
		t.Fatalf("scan %s: no findings: %s\n%s", target, out, stderr)
	}
	var kept []map[string]any
	for _, f := range doc.Images[0].Findings {
		rule, _ := f["rule"].(string)
		if rule == "disk.upload-format" {
			continue // judges the container format itself
		}
		if strings.HasPrefix(rule, "disk.") {
			// The other disk rules describe the container too (its
			// format, file, allocation, metadata): compare their
			// verdicts only.
			f["message"], f["evidence"], f["fix"] = nil, nil, nil
		}
		kept = append(kept, f)
	}
	b, err := json.MarshalIndent(kept, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestContainersScanLikeRaw scans the sample Debian disk converted to
// every container format, in both profiles: each finds what the raw
// source finds.
func TestContainersScanLikeRaw(t *testing.T) {
	raw := sampleDebianDisk(t)
	for _, profile := range []string{"marketplace", "img_check"} {
		want := findingsJSON(t, raw, profile)
		for _, c := range containerCases {
			t.Run(profile+"/"+c.name, func(t *testing.T) {
				path := fixtures.MustConvert(t, raw, c.format, c.options...)
				if got := findingsJSON(t, path, profile); got != want {
					t.Errorf("findings differ from the raw source's: %s", firstDiff(got, want))
				}
			})
		}
	}
}

// TestContainersCompressed scans every single-file container format
// compressed with gzip and bzip2, as uploads arrive: each finds what the
// raw source finds.
func TestContainersCompressed(t *testing.T) {
	raw := sampleDebianDisk(t)
	want := findingsJSON(t, raw, "marketplace")
	for _, c := range containerCases {
		if c.siblings {
			continue
		}
		for _, kind := range []string{"gzip", "bzip2"} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				path := fixtures.MustGzip(t, fixtures.MustConvert(t, raw, c.format, c.options...), kind)
				if got := findingsJSON(t, path, "marketplace", "--tmpdir", t.TempDir()); got != want {
					t.Errorf("findings differ from the raw source's: %s", firstDiff(got, want))
				}
			})
		}
	}
}

// TestContainersURL scans every container format over loopback HTTP: a
// single file is read in place and reports what the local scan does,
// compressed too (downloaded whole with --download), and a descriptor
// naming extent files is refused as unreadable (exit 3) with an error
// naming the extent file, even with --download, since there is no
// directory beside a URL to read it from.
func TestContainersURL(t *testing.T) {
	raw := sampleDebianDisk(t)
	for _, c := range containerCases {
		t.Run(c.name, func(t *testing.T) {
			path := fixtures.MustConvert(t, raw, c.format, c.options...)
			url, _ := serveImage(t, path)
			if !c.siblings {
				if got, want := findingsJSON(t, url, "marketplace"), findingsJSON(t, path, "marketplace"); got != want {
					t.Errorf("over HTTP: %s", firstDiff(got, want))
				}
				gz := fixtures.MustGzip(t, path, "gzip")
				gzURL, _ := serveImage(t, gz)
				if got, want := findingsJSON(t, gzURL, "marketplace", "--download", "--tmpdir", t.TempDir()), findingsJSON(t, gz, "marketplace", "--tmpdir", t.TempDir()); got != want {
					t.Errorf("compressed, downloaded: %s", firstDiff(got, want))
				}
				return
			}
			out, stderr, code := runCmd(t, "scan", "--download", url)
			if code != 3 || !strings.Contains(stderr, `extent file "disk-`) || strings.Contains(out+stderr, "SIGSECRET") {
				t.Errorf("descriptor over HTTP: exit %d, output %q %q; want exit 3 naming the extent file", code, out, stderr)
			}
		})
	}
}

// TestContainerLimits sets each container format's --limit below what
// the sample disk needs: the table limits refuse it naming the limit, and
// a cache limit only costs memory.
func TestContainerLimits(t *testing.T) {
	raw := sampleDebianDisk(t)
	byName := map[string]containerCase{}
	for _, c := range containerCases {
		byName[c.name] = c
	}
	for _, tt := range []struct{ limit, disk string }{
		{"vmdk-grain-dir=4", "vmdk-monolithicSparse"},
		{"vmdk-grain-dir=4", "vmdk-streamOptimized"},
		{"vdi-block-map=100", "vdi-dynamic"},
		{"vhdx-bat=1", "vhdx-dynamic"},
		{"vhd-bat=1", "vpc-dynamic"},
	} {
		c := byName[tt.disk]
		path := fixtures.MustConvert(t, raw, c.format, c.options...)
		name, _, _ := strings.Cut(tt.limit, "=")
		_, stderr, code := runCmd(t, "scan", "--limit", tt.limit, path)
		if code != 3 || !strings.Contains(stderr, "the "+name+" limit") {
			t.Errorf("%s --limit %s: exit %d, stderr %q; want 3 naming the limit", tt.disk, tt.limit, code, stderr)
		}
		if _, stderr, code := runCmd(t, "scan", path); code > 1 {
			t.Errorf("%s without the limit: exit %d, stderr %q", tt.disk, code, stderr)
		}
	}
	want := findingsJSON(t, raw, "marketplace")
	stream := byName["vmdk-streamOptimized"]
	if got := findingsJSON(t, fixtures.MustConvert(t, raw, stream.format, stream.options...), "marketplace", "--limit", "vmdk-cache=1"); got != want {
		t.Errorf("streamOptimized with a 1-byte vmdk-cache: %s", firstDiff(got, want))
	}

	// Three extents of at most 2 GiB: more than a vmdk-extents limit of 2.
	big := fixtures.MustDisk(t, fixtures.Layout{DiskSize: 5 << 30, Parts: []fixtures.Part{{Type: "linux", Image: fixtures.MustExt4(t, fixtures.DemoTree(), fixtures.Ext4Options{Size: 32 << 20}), Size: 32 << 20}}})
	split := fixtures.MustConvert(t, big, "vmdk", "subformat=twoGbMaxExtentSparse")
	if _, stderr, code := runCmd(t, "scan", "--limit", "vmdk-extents=2", split); code != 3 || !strings.Contains(stderr, "the vmdk-extents limit") {
		t.Errorf("--limit vmdk-extents=2 on three extents: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runCmd(t, "scan", "--limit", "vmdk-extents=3", split); code > 1 {
		t.Errorf("--limit vmdk-extents=3 on three extents: exit %d, stderr %q", code, stderr)
	}
}
