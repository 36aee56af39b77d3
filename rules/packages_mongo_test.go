package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

func TestMongoSSPL(t *testing.T) {
	if r, ok := rules.Lookup("pkg.mongodb-sspl"); !ok || !r.Off {
		t.Fatal("pkg.mongodb-sspl must be registered and off by default")
	}
	binary := func(ver string) *fstest.MapFile {
		return fixtures.File(strings.Repeat("\x00\x7fELF", 300000)+"db version v"+ver+"\x00git version: abc\x00", 0o755)
	}
	cases := []struct {
		name  string
		tree  fstest.MapFS
		level rules.Level
		msg   string
	}{
		{"4.0.4 fails", ubuntuTree(stanza("mongodb-org-server", "4.0.4", installed)), rules.Fail, "An SSPL version of MongoDB is present, 4.0.4"},
		{"4.0.0 fails (quirk)", ubuntuTree(stanza("mongodb-org-server", "4.0.0", installed)), rules.Fail, "An SSPL version of MongoDB is present, 4.0.0"},
		{"4.0.3 passes", ubuntuTree(stanza("mongodb-org-server", "4.0.3", installed)), rules.Pass, "The version of MongoDB installed, 4.0.3 is not under the SSPL"},
		{"3.6.8 passes", ubuntuTree(stanza("mongodb-server-core", "1:3.6.8-1", installed)), rules.Pass, "The version of MongoDB installed, 3.6.8 is not under the SSPL"},
		{"+really", ubuntuTree(stanza("mongodb-server", "3.6.9+really3.6.8+90~g8e540c0b6d-0ubuntu5", installed)), rules.Pass, "The version of MongoDB installed, 3.6.8 is not under the SSPL"},
		{"+really plain", ubuntuTree(stanza("mongodb-server", "3.6.9+really3.6.8", installed)), rules.Pass, "The version of MongoDB installed, 3.6.8 is not under the SSPL"},
		{"absent", ubuntuTree(), rules.Pass, "MongoDB is not installed"},
		{"binary only", with(ubuntuTree(), "usr/bin/mongod", binary("4.2.1")), rules.Fail, "An SSPL version of MongoDB is present, 4.2.1"},
		{"binary only, old", with(ubuntuTree(), "usr/bin/mongod", binary("3.4.17")), rules.Pass, "The version of MongoDB installed, 3.4.17 is not under the SSPL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectOne(t, runRule(t, testGuest(t, c.tree), "pkg.mongodb-sspl", rules.Options{}), c.level, c.msg)
		})
	}
}
