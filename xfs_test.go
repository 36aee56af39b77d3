package imgcheck_test

import (
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// TestXFSRootScansLikeExt4 scans the demo tree on an XFS root and on an
// ext4 one: every guest rule finds the same, and the disk rules name XFS.
func TestXFSRootScansLikeExt4(t *testing.T) {
	tree := fixtures.DemoTree()
	fstab := *tree["etc/fstab"]
	fstab.Data = []byte(strings.Replace(string(fstab.Data), " / ext4 ", " / xfs ", 1))
	tree["etc/fstab"] = &fstab
	root := fixtures.MustXFS(t, tree, fixtures.XFSOptions{Size: 300 << 20, Label: "root", UUID: fixtures.DemoRootUUID})
	xfsDisk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: root}}})

	onXFS := scanImage(t, xfsDisk, rules.Marketplace).Results
	onExt4 := scanImage(t, demoDisk(t, "gpt"), rules.Marketplace).Results
	if len(onXFS) != len(onExt4) {
		t.Fatalf("%d results on XFS, %d on ext4", len(onXFS), len(onExt4))
	}
	for i, x := range onXFS {
		e := onExt4[i]
		if x.Rule.ID != e.Rule.ID {
			t.Fatalf("result %d: rule %s on XFS, %s on ext4", i, x.Rule.ID, e.Rule.ID)
		}
		if strings.HasPrefix(x.Rule.ID, "disk.") {
			continue
		}
		if got, want := summary(x.Findings), summary(e.Findings); got != want {
			t.Errorf("%s on XFS:\n%s\non ext4:\n%s", x.Rule.ID, got, want)
		}
	}

	fs := findingsOf(t, onXFS, "disk.root-fs")
	if len(fs) != 1 || fs[0].Level != rules.Warn || !strings.Contains(fs[0].Message, "the root filesystem is xfs") || strings.Contains(fs[0].Fix, "tune2fs") {
		t.Errorf("disk.root-fs: %+v, want one WARN naming xfs with a rebuild fix", fs)
	}
	fs = findingsOf(t, onXFS, "disk.fs-state")
	if len(fs) != 1 || fs[0].Level != rules.Pass || fs[0].Get("log") != "clean" {
		t.Errorf("disk.fs-state: %+v, want PASS with log=clean", fs)
	}
}

// summary is one line per finding: level and message.
func summary(fs []rules.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Level.String() + " " + f.Message + "\n")
	}
	return b.String()
}
