package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// plansFinding scans img to JSON with extra flags and returns the
// disk.plans finding's message and evidence, and stderr.
func plansFinding(t *testing.T, img string, flags ...string) (msg string, ev map[string]string, stderr string) {
	t.Helper()
	args := append(append([]string{"scan", "--format", "json"}, flags...), img)
	js, stderr, code := runCmd(t, args...)
	if code > 1 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	f := findingsOf(t, js, "disk.plans")["disk"]
	msg, _ = f["message"].(string)
	ev = map[string]string{}
	m, _ := f["evidence"].(map[string]any)
	for k, v := range m {
		ev[k], _ = v.(string)
	}
	return msg, ev, stderr
}

// TestDoSizesSaveThenScan: `do sizes --save` fetches both pages of the
// sizes API through godo, keeps the available sizes, prints them and saves
// them, dated, under $XDG_CONFIG_HOME; a later scan uses the saved
// catalogue on its own, and --plans still wins over it.
func TestDoSizesSaveThenScan(t *testing.T) {
	api := newFakeAPI(t)
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	out, stderr, code := runCmd(t, "do", "sizes", "--save", "--api-url", api.srv.URL)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	saved := filepath.Join(config, "imgcheck", "sizes.json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "SLUG") || !strings.HasPrefix(lines[1], "s-1vcpu-512mb-10gb ") ||
		!strings.Contains(lines[1], "$4.00") || !strings.Contains(lines[1], "1024 MiB") || strings.Contains(out, "s-retired") ||
		!strings.Contains(lines[4], "3 sizes from the DigitalOcean sizes API") {
		t.Errorf("table:\n%s", out)
	}
	if !strings.Contains(stderr, "saved 3 Droplet sizes to "+saved) {
		t.Errorf("stderr: %s", stderr)
	}
	if got := len(api.requests("GET")); got != 2 {
		t.Errorf("%d GET requests, want 2 (two pages of sizes)", got)
	}
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rules.ParseCatalogue(data)
	today := time.Now().UTC().Format(time.DateOnly)
	if err != nil || c.Source != "DigitalOcean sizes API" || c.Taken != today || len(c.Sizes) != 3 || c.Sizes[0].VCPUs != 1 {
		t.Errorf("saved catalogue %+v: %v", c, err)
	}
	noToken(t, string(data), stderr)

	img := gptImage(t, cleanTree())
	msg, ev, _ := plansFinding(t, img)
	source := "saved catalogue " + saved + " of " + today
	if ev["source"] != source || ev["taken"] != today || ev["fit"] != "3 of 3" ||
		ev["fits"] != "s-1vcpu-512mb-10gb: 10 GB disk at $4.00/month, s-1vcpu-1gb: 25 GB disk at $6.00/month, s-2vcpu-2gb: 60 GB disk at $18.00/month" ||
		msg != "cheapest plan that can launch the image: s-1vcpu-512mb-10gb ($4.00/month, 10 GB disk); 3 of 3 plans can ("+source+")" {
		t.Errorf("disk.plans with a saved catalogue: %s %v", msg, ev)
	}

	plans := filepath.Join(t.TempDir(), "plans.txt")
	os.WriteFile(plans, []byte("s-big 50\n"), 0o644)
	if _, ev, _ := plansFinding(t, img, "--plans", plans); ev["source"] != "--plans "+plans || ev["fit"] != "1 of 1" {
		t.Errorf("--plans over the saved catalogue: %v", ev)
	}
	// A saved catalogue is also a --plans file.
	if _, ev, _ := plansFinding(t, img, "--plans", saved); ev["source"] != "--plans "+saved || ev["fit"] != "3 of 3" {
		t.Errorf("--plans with a saved catalogue: %v", ev)
	}

	js, _, code := runCmd(t, "do", "sizes", "--format", "json", "--api-url", api.srv.URL)
	var printed rules.Catalogue
	if code != 0 || json.Unmarshal([]byte(js), &printed) != nil || len(printed.Sizes) != 3 || printed.Sizes[2].Slug != "s-2vcpu-2gb" {
		t.Errorf("--format json: exit %d\n%s", code, js)
	}
}

// TestSavedSizesCorrupt: a saved catalogue that cannot be used is a
// warning naming the file; the scan goes on with the built-in catalogue.
func TestSavedSizesCorrupt(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	saved := filepath.Join(config, "imgcheck", "sizes.json")
	os.MkdirAll(filepath.Dir(saved), 0o755)
	img := gptImage(t, cleanTree())
	for _, bad := range []string{`{"taken": "2026-12-01", "sizes": [`, `{"sizes": []}`, `{"sizes": [{"slug": "s-1vcpu-1gb", "disk": -25}]}`} {
		os.WriteFile(saved, []byte(bad), 0o644)
		_, ev, stderr := plansFinding(t, img)
		if !strings.Contains(stderr, "warning: saved Droplet sizes "+saved+": ") || !strings.Contains(stderr, "do sizes --save") {
			t.Errorf("%s: stderr %q", bad, stderr)
		}
		if ev["source"] != "built-in catalogue of "+rules.BuiltinCatalogue().Taken {
			t.Errorf("%s: %v", bad, ev)
		}
	}
}

// TestDoSizesUsage: --format is checked and the token is required.
func TestDoSizesUsage(t *testing.T) {
	api := newFakeAPI(t)
	if _, stderr, code := runCmd(t, "do", "sizes", "--format", "yaml", "--api-url", api.srv.URL); code != 2 || !strings.Contains(stderr, "--format") {
		t.Errorf("--format yaml: exit %d: %s", code, stderr)
	}
	t.Setenv("DIGITALOCEAN_TOKEN", "")
	if _, stderr, code := runCmd(t, "do", "sizes", "--api-url", api.srv.URL); code != 2 || !strings.Contains(stderr, "DIGITALOCEAN_TOKEN") {
		t.Errorf("no token: exit %d: %s", code, stderr)
	}
	if n := len(api.requests("")); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestBuiltinSizesOnRealImages: without --plans, --do-image or a saved
// catalogue, a 30 GiB disk (which the two built-in plans could not
// launch) and the 25 GiB demo disk get the cheapest fitting plan of the
// built-in catalogue.
func TestBuiltinSizesOnRealImages(t *testing.T) {
	fsimg := fixtures.MustExt4(t, cleanTree(), fixtures.Ext4Options{Label: "cloudimg-rootfs", Size: 64 << 20})
	gib30 := fixtures.MustDisk(t, fixtures.Layout{Scheme: "gpt", DiskSize: 30 << 30, Parts: []fixtures.Part{{Type: "linux", Image: fsimg}}})
	taken := rules.BuiltinCatalogue().Taken
	for _, tc := range []struct{ name, img, cheapest string }{
		{"30 GiB", gib30, "s-1vcpu-1gb-35gb-intel ($8.00/month, 35 GB disk)"},
		{"demo, 25 GiB", demoDisk(t), "s-1vcpu-1gb ($6.00/month, 25 GB disk)"},
	} {
		msg, _, _ := plansFinding(t, tc.img)
		if !strings.HasPrefix(msg, "cheapest plan that can launch the image: "+tc.cheapest+"; ") ||
			!strings.HasSuffix(msg, "(built-in catalogue of "+taken+")") {
			t.Errorf("%s: %s", tc.name, msg)
		}
	}
}
