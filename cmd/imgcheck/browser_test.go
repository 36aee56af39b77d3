package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserPath finds a Chromium to drive, or skips the test (fails it
// under CI, where .ci/run installs Debian's chromium).
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium): the HTML report is not checked in a browser")
	return ""
}

// TestHTMLReportInBrowser opens the page of a real batch (a clean, a
// leaky and an unreadable image) in headless Chromium: the totals and one
// table row per image are there, filtering by FAIL hides the others, a
// click on an image opens its findings. With -update it saves the
// screenshots at desktop and phone widths as docs/report-desktop.png and
// docs/report-narrow.png.
func TestHTMLReportInBrowser(t *testing.T) {
	chrome := browserPath(t)
	dir := t.TempDir()
	clean, leaky := gptImage(t, cleanTree()), gptImage(t, leakyTree())
	garbage := filepath.Join(dir, "garbage.img")
	os.WriteFile(garbage, []byte("KDMV not really a vmdk"), 0o644)
	// Stable, readable names in the page and the screenshots.
	os.Mkdir(filepath.Join(dir, "images"), 0o755)
	var images []string
	for _, img := range [][2]string{{"ubuntu-22.04-clean.raw", clean}, {"app-build-leaky.raw", leaky}, {"vendor-upload.img", garbage}} {
		p := filepath.Join("images", img[0])
		if err := os.Link(img[1], filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
		images = append(images, p)
	}
	docs, err := filepath.Abs(filepath.Join("..", "..", "docs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	results := filepath.Join(dir, "results.jsonl")
	if _, stderr, code := runCmd(t, append([]string{"scan", "--format", "jsonl=" + results}, images...)...); code == 2 {
		t.Fatalf("scan: %s", stderr)
	}
	page := filepath.Join(dir, "audit.html")
	if _, stderr, code := runCmd(t, "report", "html", results, "-o", page); code != 0 {
		t.Fatalf("report html: exit %d: %s", code, stderr)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()

	do := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, a); err != nil {
			t.Fatalf("chromium: %s: %v", what, err)
		}
	}
	eval := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("chromium: %s: %v", js, err)
		}
		return n
	}
	shot := func() []byte {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("chromium: screenshot: %v", err)
		}
		return b
	}
	filter := func(v string) {
		t.Helper()
		eval(`(s => (s.value = "` + v + `", s.dispatchEvent(new Event("change")), 0))(document.getElementById("filter-verdict"))`)
	}
	do("viewport", chromedp.EmulateViewport(1280, 900))
	do("navigate", chromedp.Navigate("file://"+page))
	do("wait", chromedp.WaitReady("#images"))
	total, err := chromedp.Run(ctx, chromedp.Text("#total-images"))
	if err != nil {
		t.Fatal(err)
	}
	rows := eval(`document.querySelectorAll("#images tbody tr").length`)
	desktop := shot()
	filter("fail")
	visible := eval(`Array.from(document.querySelectorAll("#images tbody tr")).filter(r => !r.hidden).length`)
	passVisible := eval(`Array.from(document.querySelectorAll("#images tbody tr[data-verdict=pass]")).filter(r => !r.hidden).length`)
	do("click", chromedp.Click(`#images tbody tr:not([hidden]) a[data-open]`))
	opened := eval(`document.querySelector("details.image[data-verdict=fail]").open ? 1 : 0`) == 1
	filter("")
	// Sorting by the FAIL column, most first, puts the leaky image on top.
	eval(`(th => (th.click(), th.click(), 0))(document.querySelectorAll("#images th")[4])`)
	top, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#images tbody tr").cells[0].textContent`))
	if err != nil || !strings.Contains(top, "app-build-leaky.raw") {
		t.Errorf("after sorting by FAIL, descending, the first row is %q (%v)", top, err)
	}
	eval(`(th => (th.click(), 0))(document.querySelectorAll("#images th")[0])`)
	do("narrow", chromedp.EmulateViewport(390, 844))
	eval(`window.scrollTo(0, 0), 0`)
	narrow := shot()
	if strings.TrimSpace(total) != "3" || rows != 3 {
		t.Errorf("totals %q and %d rows, want 3 and 3", total, rows)
	}
	if visible != 1 || passVisible != 0 {
		t.Errorf("filter by FAIL shows %d rows (%d passing), want the 1 failing image only", visible, passVisible)
	}
	if !opened {
		t.Errorf("clicking the failing image did not open its findings")
	}
	if len(desktop) == 0 || len(narrow) == 0 {
		t.Fatal("no screenshots")
	}
	if *update {
		for name, png := range map[string][]byte{"report-desktop.png": desktop, "report-narrow.png": narrow} {
			if err := os.WriteFile(filepath.Join(docs, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
