package imgcheck_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// demoDisk is the sample image's tree in an ext4 root on a GPT (or MBR,
// or no table) disk.
func demoDisk(t *testing.T, scheme string) string {
	t.Helper()
	root := fixtures.MustExt4(t, fixtures.DemoTree(), fixtures.Ext4Options{Size: 64 << 20, Label: "root", UUID: fixtures.DemoRootUUID})
	return fixtures.MustDisk(t, fixtures.Layout{Scheme: scheme, Parts: []fixtures.Part{{Type: "linux", Image: root}}})
}

// cutInHalf copies the first half of the file at path.
func cutInHalf(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fixtures.MustHostile(t)(fixtures.Truncated(path, st.Size()/2))
}

// integrity returns the scan's results and disk.integrity's findings.
func integrity(t *testing.T, path string, p rules.Profile) ([]rules.Result, []rules.Finding) {
	t.Helper()
	res := scanImage(t, path, p).Results
	return res, findingsOf(t, res, "disk.integrity")
}

// findingsOf returns the findings of rule id among res.
func findingsOf(t *testing.T, res []rules.Result, id string) []rules.Finding {
	t.Helper()
	i := slices.IndexFunc(res, func(r rules.Result) bool { return r.Rule.ID == id })
	if i < 0 {
		t.Fatalf("%s did not run", id)
	}
	return res[i].Findings
}

// subjects lists the findings' subjects of the given level.
func subjects(fs []rules.Finding, level rules.Level) []string {
	var out []string
	for _, f := range fs {
		if f.Level == level {
			out = append(out, f.Subject)
		}
	}
	return out
}

func TestDiskIntegrityIntact(t *testing.T) {
	gpt := demoDisk(t, "gpt")
	for name, path := range map[string]string{
		"gpt":   gpt,
		"mbr":   demoDisk(t, "mbr"),
		"bare":  demoDisk(t, "none"),
		"qcow2": fixtures.MustQCOW2(t, gpt, fixtures.QCOW2Options{}),
	} {
		for _, p := range []rules.Profile{rules.Marketplace, rules.ImgCheck} {
			_, fs := integrity(t, path, p)
			if len(fs) != 1 || fs[0].Level != rules.Pass || !strings.Contains(fs[0].Message, "lies inside the image") {
				t.Errorf("%s, %s: %+v, want one PASS", name, p, fs)
			}
		}
	}
	_, fs := integrity(t, gpt, rules.Marketplace)
	if got := fs[0].Get("checked"); got != "partition 1, backup GPT header" {
		t.Errorf("gpt checked %q", got)
	}
}

// TestDiskIntegrityCutRaw: a GPT disk cut in half has its partition, its
// filesystem and its backup GPT header past the end. disk.integrity is the
// first rule of the marketplace profile, and the scan goes on: the root
// filesystem is unreadable (its superblock counts more blocks than are
// left), so the guest rules report ERROR, and the other disk rules run.
func TestDiskIntegrityCutRaw(t *testing.T) {
	full := demoDisk(t, "gpt")
	cut := cutInHalf(t, full)
	res, fs := integrity(t, cut, rules.Marketplace)
	if res[0].Rule.ID != "disk.integrity" {
		t.Errorf("first rule %s, want disk.integrity", res[0].Rule.ID)
	}
	want := []string{"partition 1", "backup GPT header"}
	if got := subjects(fs, rules.Fail); !slices.Equal(got, want) {
		t.Fatalf("FAIL subjects %q, want %q (%+v)", got, want, fs)
	}
	st, _ := os.Stat(cut)
	for _, f := range fs {
		ref, _ := strconv.ParseInt(f.Get("referenced"), 10, 64)
		if f.Get("size") != strconv.FormatInt(st.Size(), 10) || f.Get("within") != "virtual disk" || ref <= st.Size() || f.Fix == "" {
			t.Errorf("evidence of %s: %+v", f.Subject, f.Evidence)
		}
	}
	for _, r := range res {
		for _, f := range r.Findings {
			if strings.Contains(f.Message, "internal error") {
				t.Errorf("%s: %s", r.Rule.ID, f.Message)
			}
			if (r.Rule.ID == "os.supported" || r.Rule.ID == "disk.fs-state") && f.Level != rules.Error {
				t.Errorf("%s on the cut image: %v %s, want ERROR", r.Rule.ID, f.Level, f.Message)
			}
			if r.Rule.ID == "disk.min-size" && f.Level != rules.Pass {
				t.Errorf("disk.min-size on the cut image: %v %s", f.Level, f.Message)
			}
		}
	}
}

// TestDiskIntegrityCutLVM: an Ubuntu LVM disk cut in half leaves its PV's
// extents, and the LV on them, past the end of the partition.
func TestDiskIntegrityCutLVM(t *testing.T) {
	cut := cutInHalf(t, fixtures.MustUbuntuLVM(t))
	_, fs := integrity(t, cut, rules.Marketplace)
	if !slices.ContainsFunc(subjects(fs, rules.Fail), func(s string) bool { return strings.HasPrefix(s, "LVM PV pv0 of ubuntu-vg") }) {
		t.Fatalf("no LV segment past its PV: %+v", fs)
	}
}

// TestDiskIntegrityCutQCOW2 is the "done when": a qcow2 cut to
// half its length reports disk.integrity FAIL first, about its file.
func TestDiskIntegrityCutQCOW2(t *testing.T) {
	q := fixtures.MustQCOW2(t, demoDisk(t, "gpt"), fixtures.QCOW2Options{})
	cut := cutInHalf(t, q)
	res, fs := integrity(t, cut, rules.Marketplace)
	if res[0].Rule.ID != "disk.integrity" || len(fs) == 0 || fs[0].Level != rules.Fail || !strings.HasPrefix(fs[0].Subject, "qcow2 metadata") {
		t.Fatalf("cut qcow2: first rule %s, findings %+v", res[0].Rule.ID, fs)
	}
	st, _ := os.Stat(cut)
	if fs[0].Get("size") != strconv.FormatInt(st.Size(), 10) || !strings.HasPrefix(fs[0].Get("within"), "file ") {
		t.Errorf("evidence %+v", fs[0].Evidence)
	}
}
