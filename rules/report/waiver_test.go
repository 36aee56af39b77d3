package report

import (
	"strings"
	"testing"
	"time"

	"github.com/imgcheck/imgcheck/rules"
)

var now = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func TestApplyWaivers(t *testing.T) {
	ws := []Waiver{
		{Rule: "ssh.known-hosts", Image: "*.raw", Reason: "build host known", Expires: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
		{Rule: "accounts.password", Subject: "r*", Reason: "old", Expires: time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)},
		{Rule: "ssh.private-keys", Image: "other/*.raw", Reason: "other images", Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Rule: "disk.layout", Reason: "errors are never waived", Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	im := sampleImages()[1]
	im.Results = append(im.Results, result("disk.layout", rules.Finding{Level: rules.Error, Message: "partition past the end"}))
	ApplyWaivers(&im, ws, now)
	got := map[string]bool{}
	for _, f := range im.Findings() {
		got[f.Rule] = f.Waived
	}
	if !got["ssh.known-hosts"] {
		t.Errorf("known-hosts not waived (expires today, image glob on the base name)")
	}
	if got["accounts.password"] {
		t.Errorf("expired waiver applied")
	}
	if got["ssh.private-keys"] {
		t.Errorf("waiver for other images applied")
	}
	if got["disk.layout"] {
		t.Errorf("an ERROR was waived")
	}
	if len(im.ExpiredWaivers) != 1 || im.ExpiredWaivers[0].Rule != "accounts.password" {
		t.Errorf("expired waivers = %+v", im.ExpiredWaivers)
	}
	if v := im.Verdict(); v != VerdictFail {
		t.Errorf("verdict %s: two FAILs are still not waived", v)
	}
	text := string(render(t, "text", []Image{im}, Options{}))
	if !strings.Contains(text, "expired waiver: accounts.password subject=r* (expired 2026-05-31): old") {
		t.Errorf("expired waiver not reported:\n%s", text)
	}
}

func TestParseWaivers(t *testing.T) {
	good := `waivers:
  - rule: ssh.known-hosts
    image: "images/*.qcow2"
    subject: /root/.ssh/known_hosts
    reason: accepted until the next rebuild
    expires: 2026-12-31
`
	ws, err := ParseWaivers(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Image != "images/*.qcow2" || !ws[0].Expires.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("parsed %+v", ws)
	}
	for name, doc := range map[string]string{
		"no reason":    "waivers:\n  - rule: ssh.known-hosts\n    expires: 2026-12-31\n",
		"no expiry":    "waivers:\n  - rule: ssh.known-hosts\n    reason: r\n",
		"bad date":     "waivers:\n  - rule: ssh.known-hosts\n    reason: r\n    expires: soon\n",
		"unknown rule": "waivers:\n  - rule: no.such-rule\n    reason: r\n    expires: 2026-12-31\n",
		"typo field":   "waivers:\n  - rule: ssh.known-hosts\n    reson: r\n    expires: 2026-12-31\n",
		"bad glob":     "waivers:\n  - rule: ssh.known-hosts\n    image: \"[\"\n    reason: r\n    expires: 2026-12-31\n",
	} {
		if _, err := ParseWaivers(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
