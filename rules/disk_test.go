package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
)

// runDisk runs the disk rule id with the disk facts d (nil for a --root scan).
func runDisk(t *testing.T, id string, d *rules.Disk, o rules.Options) []rules.Finding {
	t.Helper()
	r, ok := rules.Lookup(id)
	if !ok {
		t.Fatalf("rule %q is not registered", id)
	}
	if o.Profile == "" {
		o.Profile = rules.Marketplace
	}
	g := testGuest(t, fstest.MapFS{"etc/hostname": fixtures.File("x\n", 0o644)})
	res := rules.Run(t.Context(), g, []rules.Rule{r}, o, d)
	return res[0].Findings
}

// gptDisk is a GPT disk of virtual size v with one partition ending at end
// and an ext4 root filesystem filling it with used bytes in use.
func gptDisk(v, end, used int64) *rules.Disk {
	const start = 1 << 20
	bs := int64(4096)
	size := (end - start) / bs * bs
	return &rules.Disk{
		Container: "raw", VirtualSize: v, AllocatedSize: -1, Scheme: "gpt", SectorSize: 512,
		Partitions: []rules.DiskPartition{{Index: 1, Start: start, Size: end - start, Type: "0FC63DAF-8483-4772-8E79-3D69D8477DE4", FS: "ext4"}},
		Root: &fsinspect.FSInfo{Type: "ext4", Offset: start, Size: end - start, Facts: &fsinspect.FSFacts{Type: "ext4",
			Size: size, Free: size - used/bs*bs, Clean: true, UUID: "2f3e4d5c-6b7a-4980-91a2-b3c4d5e6f708"}},
	}
}

func diskLevels(fs []rules.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, strings.ToUpper(f.Level.String()))
	}
	return strings.Join(s, ",")
}

func TestFormatSize(t *testing.T) {
	if got := rules.FormatSize(26843545600); got != "26843545600 bytes (26.84 GB, 25.00 GiB)" {
		t.Errorf("FormatSize = %q", got)
	}
}

func TestDiskRulesOnRootScan(t *testing.T) {
	for _, id := range []string{"disk.layout", "disk.fs-state", "disk.min-size", "disk.plans", "disk.shrink-hint", "disk.upload-limit"} {
		fs := runDisk(t, id, nil, rules.Options{})
		if len(fs) != 1 || fs[0].Level != rules.Skip || fs[0].SkipReason != rules.NotApplicable {
			t.Errorf("%s on a --root scan: %+v", id, fs)
		}
	}
}

func TestDiskLayout(t *testing.T) {
	ok := gptDisk(10*rules.GiB, 8*rules.GiB, 1*rules.GiB)
	fs := runDisk(t, "disk.layout", ok, rules.Options{})
	if diskLevels(fs) != "INFO" || !strings.Contains(fs[0].Get("last_used_byte"), "8589951488 bytes") {
		t.Errorf("clean GPT: %+v", fs)
	}
	noted := gptDisk(10*rules.GiB, 8*rules.GiB, 1*rules.GiB)
	noted.Notes = []string{"extended partition chain loops back to LBA 2048"}
	if fs := runDisk(t, "disk.layout", noted, rules.Options{}); diskLevels(fs) != "INFO" ||
		!strings.Contains(fs[0].Message, "loops back to LBA 2048") || fs[0].Get("note") == "" {
		t.Errorf("table notes must reach the message and evidence: %+v", fs)
	}
	truncated := gptDisk(4*rules.GiB, 8*rules.GiB, rules.GiB)
	if fs := runDisk(t, "disk.layout", truncated, rules.Options{}); diskLevels(fs) != "ERROR" || !strings.Contains(fs[0].Message, "truncated") {
		t.Errorf("partition beyond V: %+v", fs)
	}
	big := gptDisk(10*rules.GiB, 8*rules.GiB, rules.GiB)
	big.Root.Facts.Size *= 2
	if fs := runDisk(t, "disk.layout", big, rules.Options{}); diskLevels(fs) != "ERROR" || !strings.Contains(fs[0].Message, "larger than its partition") {
		t.Errorf("fs > partition: %+v", fs)
	}
	bare := &rules.Disk{Container: "qcow2", VirtualSize: 10 * rules.GiB, AllocatedSize: 200 << 20, Scheme: "none",
		Root: &fsinspect.FSInfo{Type: "ext4", Facts: &fsinspect.FSFacts{Type: "ext4", Size: 10 * rules.GiB, Clean: true}}}
	if fs := runDisk(t, "disk.layout", bare, rules.Options{}); diskLevels(fs) != "INFO" || fs[0].Get("allocated") == "" {
		t.Errorf("bare qcow2: %+v", fs)
	}
}

func TestFSState(t *testing.T) {
	d := gptDisk(10*rules.GiB, 8*rules.GiB, rules.GiB)
	if fs := runDisk(t, "disk.fs-state", d, rules.Options{}); diskLevels(fs) != "PASS" {
		t.Errorf("clean: %+v", fs)
	}
	d.Root.Facts.NeedsRecovery = true
	if fs := runDisk(t, "disk.fs-state", d, rules.Options{}); diskLevels(fs) != "WARN" || !strings.Contains(fs[0].Message, "recovery") {
		t.Errorf("RECOVER: %+v", fs)
	}
	d.Root.Facts.NeedsRecovery, d.Root.Facts.Clean = false, false
	if fs := runDisk(t, "disk.fs-state", d, rules.Options{}); diskLevels(fs) != "WARN" {
		t.Errorf("not clean: %+v", fs)
	}
	d.Root.Facts.Type = "xfs"
	d.Root.Facts.NeedsRecovery = true
	if fs := runDisk(t, "disk.fs-state", d, rules.Options{}); diskLevels(fs) != "WARN" || !strings.Contains(fs[0].Message, "the log needs recovery") {
		t.Errorf("XFS log dirty: %+v", fs)
	}
	d.Root.Facts.NeedsRecovery, d.Root.Facts.StateUnknown = false, true
	if fs := runDisk(t, "disk.fs-state", d, rules.Options{}); diskLevels(fs) != "SKIP" || !strings.Contains(fs[0].Message, "external") {
		t.Errorf("XFS external log: %+v", fs)
	}
	d.Root, d.RootErr = nil, "LVM is not supported"
	if fs := runDisk(t, "disk.fs-state", d, rules.Options{}); diskLevels(fs) != "ERROR" || !strings.Contains(fs[0].Message, "LVM") {
		t.Errorf("no root: %+v", fs)
	}
}

func TestMinSizePlansShrinkUpload(t *testing.T) {
	gib50 := gptDisk(50*rules.GiB, 8*rules.GiB, rules.GiB)
	fs := runDisk(t, "disk.min-size", gib50, rules.Options{})
	if diskLevels(fs) != "WARN" || !strings.Contains(fs[0].Message, "53687091200 bytes (53.69 GB, 50.00 GiB)") {
		t.Errorf("50 GiB: %+v", fs)
	}
	// Plans without prices (a --plans text file): the smallest disk that fits.
	plans := rules.Options{Plans: []rules.Plan{{Slug: "s-2vcpu-4gb", DiskGB: 80}, {Slug: "s-1vcpu-2gb", DiskGB: 50}, {Slug: "s-1vcpu-1gb", DiskGB: 25}}, PlanSource: "--plans plans.txt"}
	fs = runDisk(t, "disk.plans", gib50, plans)
	if diskLevels(fs) != "INFO" || fs[0].Message != "cheapest plan that can launch the image: s-1vcpu-2gb (50 GB disk); 2 of 3 plans can (--plans plans.txt)" {
		t.Errorf("plans: %+v", fs)
	}
	if fs := runDisk(t, "disk.shrink-hint", gib50, rules.Options{}); diskLevels(fs) != "INFO" {
		t.Errorf("shrink hint, last partition at 8 GiB: %+v", fs)
	}
	if fs := runDisk(t, "disk.shrink-hint", gptDisk(50*rules.GiB, 50*rules.GiB-(1<<20), 30*rules.GiB), rules.Options{}); diskLevels(fs) != "PASS" {
		t.Errorf("no shrink possible: %+v", fs)
	}
	if fs := runDisk(t, "disk.shrink-hint", gptDisk(50*rules.GiB, 50*rules.GiB-(1<<20), 2*rules.GiB), rules.Options{}); diskLevels(fs) != "INFO" ||
		!strings.Contains(fs[0].Message, "shrink the filesystem") {
		t.Errorf("fs data fits: %+v", fs)
	}
	onXFS := gptDisk(50*rules.GiB, 50*rules.GiB-(1<<20), 2*rules.GiB)
	onXFS.Root.Facts.Type = "xfs"
	if fs := runDisk(t, "disk.shrink-hint", onXFS, rules.Options{}); diskLevels(fs) != "INFO" ||
		!strings.Contains(fs[0].Message, "XFS cannot shrink") || strings.Contains(fs[0].Message, "shrink the filesystem") {
		t.Errorf("XFS data fits: %+v", fs)
	}

	gb26 := gptDisk(26*rules.GB, 8*rules.GiB, rules.GiB)
	fs = runDisk(t, "disk.min-size", gb26, rules.Options{})
	if diskLevels(fs) != "PASS" || !strings.Contains(fs[0].Message, "GiB-sized") {
		t.Errorf("26 GB: %+v", fs)
	}
	gib10 := gptDisk(10*rules.GiB, 8*rules.GiB, rules.GiB)
	if fs := runDisk(t, "disk.min-size", gib10, rules.Options{}); diskLevels(fs) != "PASS" || strings.Contains(fs[0].Message, "GiB-sized") {
		t.Errorf("10 GiB: %+v", fs)
	}
	fs = runDisk(t, "disk.plans", gib10, rules.Options{})
	if !strings.Contains(fs[0].Message, "cheapest plan that can launch the image: s-1vcpu-512mb-10gb ($4.00/month, 10 GB disk)") ||
		fs[0].Get(rules.KeySource) != "built-in catalogue of "+rules.BuiltinCatalogue().Taken {
		t.Errorf("10 GiB built-in plans: %+v", fs)
	}
	fs = runDisk(t, "disk.plans", gib10, rules.Options{PlanUnit: "gb"})
	if !strings.Contains(fs[0].Message, "cheapest plan that can launch the image: s-1vcpu-1gb ($6.00/month, 25 GB disk)") {
		t.Errorf("--plan-unit gb: %+v", fs)
	}
	if fs := runDisk(t, "disk.min-size", gib50, rules.Options{MinDisk: 60 * rules.GiB}); diskLevels(fs) != "PASS" {
		t.Errorf("--min-disk 60GiB: %+v", fs)
	}
	if fs := runDisk(t, "disk.min-size", gib10, rules.Options{MinDisk: 10 * rules.GB}); diskLevels(fs) != "WARN" || fs[0].Get("note") == "" {
		t.Errorf("--min-disk 10GB with a 10 GiB disk: %+v", fs)
	}

	for v, want := range map[int64]string{101 * rules.GiB: "WARN", 100*rules.GB + 1: "INFO", 100 * rules.GiB: "INFO", 10 * rules.GiB: "PASS"} {
		if fs := runDisk(t, "disk.upload-limit", gptDisk(v, 8*rules.GiB, rules.GiB), rules.Options{}); diskLevels(fs) != want {
			t.Errorf("upload limit for %d: %+v, want %s", v, fs, want)
		}
	}
}

func TestZerofileFreeSpace(t *testing.T) {
	r, _ := rules.Lookup("clean.zerofile")
	g := testGuest(t, fstest.MapFS{"zerofile": fixtures.File(strings.Repeat("\x00", 8192), 0o644)})
	for _, tc := range []struct {
		free int64
		want string
	}{{1000, "WARN"}, {49, "FAIL"}} {
		d := gptDisk(10*rules.GiB, 8*rules.GiB, rules.GiB)
		d.Root.Facts.Size, d.Root.Facts.Free = 1000*4096, tc.free*4096
		fs := rules.Run(t.Context(), g, []rules.Rule{r}, rules.Options{Profile: rules.Marketplace}, d)[0].Findings
		if diskLevels(fs) != tc.want {
			t.Errorf("free %d of 1000 blocks: %+v, want %s", tc.free, fs, tc.want)
		}
	}
}

func TestLastUsedByte4K(t *testing.T) {
	d := gptDisk(10*rules.GiB, 8*rules.GiB, rules.GiB)
	d.SectorSize = 4096
	if got, want := rules.LastUsedByte(d), 8*rules.GiB+33*4096; got != want {
		t.Errorf("LastUsedByte with 4096-byte sectors = %d, want %d", got, want)
	}
	d.Scheme = "mbr"
	if got := rules.LastUsedByte(d); got != 8*rules.GiB {
		t.Errorf("LastUsedByte for MBR = %d", got)
	}
}

func TestDiskIntegrityRootSkips(t *testing.T) {
	fs := runRule(t, testGuest(t, ubuntuTree()), "disk.integrity", rules.Options{})
	if len(fs) != 1 || fs[0].Level != rules.Skip || fs[0].SkipReason != rules.NotApplicable {
		t.Fatalf("--root scan: %+v, want SKIP not-applicable", fs)
	}
}
