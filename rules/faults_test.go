package rules_test

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
)

// faultGuest is tree in memory, with an unreadable filesystem
// mounted at each of points, as fsinspect does for an fstab entry whose
// filesystem is missing.
func faultGuest(t *testing.T, tree fstest.MapFS, points ...string) *fsinspect.Guest {
	t.Helper()
	g := testGuest(t, tree)
	for _, p := range points {
		fault := fsinspect.FaultBackend(&fsinspect.MountError{Point: "/" + p, Spec: "UUID=0000", Err: errors.New("no such filesystem in the image")})
		if err := g.Mount(p, fault); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// TestFaultsAreErrors proves that an unreadable input is an ERROR naming
// it, never a PASS or a silent finding, in both profiles.
func TestFaultsAreErrors(t *testing.T) {
	tree := fstest.MapFS{
		"etc/passwd": fixtures.File("root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n", 0o644),
		"etc/shadow": fixtures.File("root:*:1:::\n", 0o640),
		"var/log":    fixtures.Dir(0o755), "root": fixtures.Dir(0o700), "home": fixtures.Dir(0o755),
		"tmp": fixtures.Dir(0o1777), "var/tmp": fixtures.Dir(0o1777), "var/mail": fixtures.Dir(0o755),
	}
	g := faultGuest(t, tree, "var", "root", "home", "tmp")
	for _, c := range []struct {
		id      string
		profile rules.Profile
	}{
		{"logs.archive-dated", rules.ImgCheck}, {"logs.archive-numbered", rules.ImgCheck}, {"logs.uncleared", rules.ImgCheck},
		{"logs.uncleared", rules.Marketplace}, {"logs.rotated", rules.Marketplace}, {"logs.journal", rules.Marketplace},
		{"logs.login-records", rules.Marketplace},
		{"root.ssh", rules.ImgCheck}, {"root.history", rules.ImgCheck}, {"users.ssh", rules.ImgCheck}, {"users.history", rules.ImgCheck},
		{"clean.tmp-perms", rules.Marketplace}, {"clean.tmp-contents", rules.Marketplace}, {"clean.mail-spool", rules.Marketplace},
		{"clean.cloud-instance", rules.Marketplace}, {"clean.pkg-cache", rules.Marketplace}, {"clean.crash-dumps", rules.Marketplace},
	} {
		fs := runRule(t, g, c.id, rules.Options{Profile: c.profile})
		hasError := false
		for _, f := range fs {
			if f.Level == rules.Error {
				hasError = true
			}
			if f.Level == rules.Pass || imgcheck.Silent(f) {
				t.Errorf("%s (%s): %s %q despite the unreadable filesystem", c.id, c.profile, f.Level, f.Message)
			}
		}
		if !hasError {
			t.Errorf("%s (%s): no ERROR: %+v", c.id, c.profile, fs)
		}
	}
}
