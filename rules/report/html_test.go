package report

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/rules"
)

// hostile is guest-controlled text at its worst: markup, quotes of both
// kinds, an ANSI escape, a bidi override and a line break.
const hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>\x1b[31mred\x1b[0m\u202eevil`|*[x](javascript:alert(3))\n"

// hostileLines puts hostile text into every guest-derived field: the
// path, the OS name, messages, subjects (users, file names, key comments),
// evidence keys and values, fixes, waiver reasons and an error.
func hostileLines() []Line {
	ev := []rules.KV{{Key: "path", Value: "/home/" + hostile + "/.ssh/authorized_keys"}, {Key: "user", Value: hostile},
		{Key: "comment", Value: hostile}, {Key: hostile, Value: "x"}}
	im := Image{Path: "images/" + hostile + ".raw", Profile: rules.Marketplace, AllocatedSize: -1, VirtualSize: 1 << 30,
		OS:        OS{Name: hostile, VersionID: hostile, PrettyName: hostile},
		Container: []Layer{{Format: "raw", Detail: hostile, FileSize: 1}},
		Results: []rules.Result{
			result("ssh.authorized-keys", rules.Finding{Level: rules.Fail, Message: "key " + hostile, Subject: hostile, Evidence: ev, Fix: "rm " + hostile}),
			result("logs.uncleared", rules.Finding{Level: rules.Warn, Message: hostile, Subject: "/var/log/" + hostile, Waived: true, WaiverReason: hostile}),
			result("os.supported", rules.Finding{Level: rules.Pass, Message: hostile}),
		}}
	broken := Image{Path: hostile + "broken", Profile: rules.Marketplace, AllocatedSize: -1, Err: errors.New(hostile)}
	content := Image{Path: "rooterr" + hostile, Profile: rules.Marketplace, AllocatedSize: -1, RootError: hostile,
		Results: []rules.Result{result("os.release", rules.Finding{Level: rules.Error, Message: hostile})}}
	return []Line{{Index: 0, Image: &im}, {Index: 1, Image: &broken}, {Index: 2, Image: &content, Resumed: true}}
}

// TestHTMLEscapesGuestText: no guest-derived string reaches the page as
// markup, an attribute break-out, a javascript: URL or a raw control
// character.
func TestHTMLEscapesGuestText(t *testing.T) {
	var buf bytes.Buffer
	if err := HTML(&buf, hostileLines(), Options{Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert", "<img", "\"'>", "\x1b", "\u202e", "javascript:alert(3)\""} {
		if strings.Contains(page, bad) {
			i := strings.Index(page, bad)
			t.Errorf("page holds %q unescaped: …%s…", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	// The page's own script is the only one, and it loads nothing.
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script> elements, want the page's own one", n)
	}
	for _, net := range []string{"http://", "@import", "url(", "<link"} {
		if strings.Contains(page, net) {
			t.Errorf("page refers to the network or another file: %q", net)
		}
	}
	// No tag of the page carries a guest-made attribute: with every
	// quoted value taken out (a value cannot hold a raw quote), no tag
	// names one.
	values := regexp.MustCompile(`="[^"]*"`)
	for _, tag := range regexp.MustCompile(`<[a-zA-Z][^>]*>`).FindAllString(page, -1) {
		if bare := values.ReplaceAllString(tag, ""); strings.Contains(bare, "alert") || strings.Contains(bare, "src") || strings.Contains(bare, "onerror") || strings.Contains(bare, "'") {
			t.Errorf("tag with a guest attribute: %s", tag)
		}
	}
	// The escaped text is there for the reader.
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `\x1b[31mred`, `\x202e`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the escaped %q", want)
		}
	}
	// Links go to the rule reference only.
	for _, m := range regexp.MustCompile(`href="([^"#][^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "https://github.com/imgcheck/imgcheck/blob/main/docs/rules.md#") {
			t.Errorf("link to %q", m[1])
		}
	}
}

// TestHTMLPage: totals, one table row and one section per image, the
// matrix with a row per rule that found something, content-error reasons.
func TestHTMLPage(t *testing.T) {
	ims := sampleImages()
	var lines []Line
	for i := range ims {
		lines = append(lines, Line{Index: i, Image: &ims[i]})
	}
	var buf bytes.Buffer
	if err := HTML(&buf, lines, Options{Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if n := strings.Count(page, "<tr data-verdict="); n != len(ims) {
		t.Errorf("%d image rows, want %d", n, len(ims))
	}
	if n := strings.Count(page, `<details class="image"`); n != len(ims) {
		t.Errorf("%d image sections, want %d", n, len(ims))
	}
	for _, want := range []string{`<b id="total-images">4</b>`, `href="https://github.com/imgcheck/imgcheck/blob/main/docs/rules.md#sshprivate-keys"`,
		`class="c fail"`, "L1 table at 0x30000", "fix: X7 lock the account", "waived: regenerated at boot"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, needle := range []string{plantedHash, plantedToken} {
		if strings.Contains(page, needle) {
			t.Errorf("page holds the secret %q", needle)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := Markdown(&buf, hostileLines(), Options{}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, bad := range []string{"<script", "<img", "](javascript", "\x1b", "\u202e"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown holds %q:\n%s", bad, md)
		}
	}
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| `images/") && strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") != 8 {
			t.Errorf("a hostile cell broke the table row: %s", l)
		}
	}
	if !strings.Contains(md, "### imgcheck: FAIL") || !strings.Contains(md, "[`ssh.authorized-keys`](https://github.com/imgcheck/imgcheck/blob/main/docs/rules.md#sshauthorized-keys)") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestMergeRefusesDuplicates(t *testing.T) {
	ims := sampleImages()
	a := []Line{{Index: 2, Image: &ims[2]}, {Index: 0, Image: &ims[0]}}
	b := []Line{{Index: 1, Image: &ims[1]}}
	got, err := Merge(append(a, b...))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range got {
		if l.Index != i {
			t.Errorf("merged[%d] has index %d, want the list order", i, l.Index)
		}
	}
	if _, err := Merge(append(a, Line{Index: 7, Image: &ims[0]})); err == nil || !strings.Contains(err.Error(), "images/clean.qcow2 appears twice") {
		t.Errorf("duplicate: %v", err)
	}
}
