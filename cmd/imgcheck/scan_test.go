package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/imgcheck/imgcheck/fixtures"
)

func schema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	return schemaAt(t, path, "")
}

// schemaAt compiles the schema file at path, or its part at fragment
// ("#/$defs/line").
func schemaAt(t *testing.T, path, fragment string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	url := "file:///" + filepath.Base(path)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url + fragment)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateJSON(t *testing.T, s *jsonschema.Schema, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("does not validate: %v", err)
	}
}

func TestScanTextGolden(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	for name, img := range map[string]string{"scan-clean": clean, "scan-leaky": leaky} {
		out, stderr, code := runCmd(t, "scan", "--color", "never", img)
		golden(t, name+".txt", normalize(out, map[string]string{img: name + ".raw"}))
		if stderr != "" {
			t.Errorf("%s: unexpected stderr %q", name, stderr)
		}
		if want := map[string]int{"scan-clean": 0, "scan-leaky": 1}[name]; code != want {
			t.Errorf("%s: exit %d, want %d", name, code, want)
		}
	}
	// -v lists every finding; -q prints the verdict line only.
	verbose, _, _ := runCmd(t, "scan", "--color", "never", "-v", leaky)
	golden(t, "scan-leaky-verbose.txt", normalize(verbose, map[string]string{leaky: "scan-leaky.raw"}))
	quiet, _, code := runCmd(t, "scan", "-q", leaky)
	if want := "scan-leaky.raw: FAIL: "; code != 1 || !strings.HasPrefix(normalize(quiet, map[string]string{leaky: "scan-leaky.raw"}), want) || strings.Count(quiet, "\n") != 1 {
		t.Errorf("-q: exit %d, want 1 and one line starting %q:\n%s", code, want, quiet)
	}
	if _, stderr, code := runCmd(t, "scan", "-q", "-v", leaky); code != 2 {
		t.Errorf("-q -v: exit %d, want 2 (usage); stderr %q", code, stderr)
	}
}

func TestScanImgCheckGolden(t *testing.T) {
	leaky := gptImage(t, leakyTree())
	out, stderr, code := runCmd(t, "scan", "--profile", "img_check", leaky)
	golden(t, "imgcheck-leaky.txt", normalize(out, map[string]string{leaky: "leaky.raw"}))
	if code != 1 {
		t.Errorf("exit %d, want 1 (root FAILs are counted)", code)
	}
	if !strings.Contains(stderr, "imgcheck notes") {
		t.Errorf("no imgcheck notes on stderr: %q", stderr)
	}
	js, _, code := runCmd(t, "scan", "--profile", "img_check", "--format", "json", leaky)
	validateJSON(t, schema(t, "../../rules/report/schema/report.schema.json"), []byte(js))
	if code != 1 || !strings.Contains(js, `"counted": true`) {
		t.Errorf("img_check JSON: exit %d, counted flags missing", code)
	}
}

// TestScanAllFormats writes every format at once and validates each: JSON
// against the shipped schema, SARIF against the OASIS 2.1.0 schema, JUnit
// by its structure.
func TestScanAllFormats(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	dir := t.TempDir()
	j, s, x := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.sarif"), filepath.Join(dir, "r.xml")
	out, _, code := runCmd(t, "scan", "--hash", "--stats", "--format", "text", "--format", "json="+j, "--format", "sarif="+s, "--format", "junit="+x, clean, leaky)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "IMAGE") || !strings.Contains(out, "VERDICT") {
		t.Errorf("several images give the summary table on stdout:\n%s", out)
	}
	jdata, _ := os.ReadFile(j)
	validateJSON(t, schema(t, "../../rules/report/schema/report.schema.json"), jdata)
	sdata, _ := os.ReadFile(s)
	validateJSON(t, schema(t, "../../rules/report/testdata/sarif-schema-2.1.0.json"), sdata)

	var doc struct {
		Images []struct {
			Path, SHA256, Verdict string
			Stats                 *struct {
				BytesRead int64 `json:"bytes_read"`
				ReadCalls int64 `json:"read_calls"`
			}
			Findings []struct{ Rule string }
		}
	}
	if err := json.Unmarshal(jdata, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Images) != 2 || doc.Images[0].Verdict != "pass" || doc.Images[1].Verdict != "fail" {
		t.Fatalf("json images: %+v", doc.Images)
	}
	if len(doc.Images[0].SHA256) != 64 || doc.Images[0].Stats == nil || doc.Images[0].Stats.BytesRead == 0 || doc.Images[0].Stats.ReadCalls == 0 {
		t.Errorf("--hash/--stats missing in JSON: %+v", doc.Images[0])
	}

	var junit struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	xdata, _ := os.ReadFile(x)
	if err := xml.Unmarshal(xdata, &junit); err != nil {
		t.Fatalf("junit: %v", err)
	}
	if len(junit.Suites) != 2 || junit.Suites[0].Name != clean || junit.Suites[1].Name != leaky {
		t.Fatalf("want one testsuite per image: %+v", junit.Suites)
	}
	rulesRun := map[string]bool{}
	for _, f := range doc.Images[0].Findings {
		rulesRun[f.Rule] = true
	}
	if c := junit.Suites[0]; c.Tests != len(rulesRun) || c.Failures != 0 || c.Tests < 30 {
		t.Errorf("clean image: %d testcases, %d failures; want one passing testcase per rule run (%d)", c.Tests, c.Failures, len(rulesRun))
	}
	failed := map[string]bool{}
	for _, c := range junit.Suites[1].Cases {
		if c.Failure != nil {
			failed[c.Name] = true
		}
	}
	for _, r := range []string{"accounts.password", "ssh.private-keys", "ssh.authorized-keys"} {
		if !failed[r] {
			t.Errorf("leaky image: testcase %s did not fail (%v)", r, failed)
		}
	}
}

func TestScanJSONGolden(t *testing.T) {
	leaky := gptImage(t, leakyTree())
	out, _, _ := runCmd(t, "scan", "--format", "json", leaky)
	golden(t, "scan-leaky.json", normalize(out, map[string]string{leaky: "leaky.raw"}))
}

// TestNoSecrets plants a $6$ hash, an OpenSSH private key, a dop_v1_ token
// and a DATABASE_URL password and greps every output for them.
func TestNoSecrets(t *testing.T) {
	leaky := gptImage(t, leakyTree())
	clean := gptImage(t, cleanTree())
	dir := t.TempDir()
	var outputs []string
	for _, args := range [][]string{
		{"scan", "--color", "always", leaky},
		{"scan", "--format", "json", leaky},
		{"scan", "--format", "sarif", leaky},
		{"scan", "--format", "junit", "--fail-on", "warn", leaky},
		{"scan", "--profile", "img_check", leaky},
		{"scan", "--profile", "img_check", "--show-contents", leaky},
		{"scan", "--output-dir", dir, "--format", "text=" + filepath.Join(dir, "all.txt"), leaky, clean},
		{"info", "--json", leaky},
		{"cat", leaky, "/etc/shadow"},
		{"cat", leaky, "/root/.ssh/id_ed25519"},
		{"cat", leaky, "/etc/environment"},
		{"cat", leaky, "/root/.digitalocean_password"},
		{"diff", clean, leaky},
		{"diff", "--json", clean, leaky},
	} {
		out, errs, _ := runCmd(t, args...)
		outputs = append(outputs, strings.Join(args[:2], " ")+"\n"+out+errs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) < 3 {
		t.Fatalf("--output-dir wrote %v", files)
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		outputs = append(outputs, f+"\n"+string(data))
	}
	for _, o := range outputs {
		for _, needle := range secretNeedles {
			if strings.Contains(o, needle) {
				t.Errorf("secret %q printed by %s", needle, strings.SplitN(o, "\n", 2)[0])
			}
		}
	}
}

func TestRootDir(t *testing.T) {
	dir := t.TempDir()
	if err := fixtures.Materialize(dir, leakyTree()); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCmd(t, "scan", "--root", dir, "--format", "json")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var doc struct {
		Images []struct {
			Root     bool
			OS       struct{ Name string }
			Findings []struct{ Rule, Level string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	im := doc.Images[0]
	if !im.Root || im.OS.Name != "Ubuntu" {
		t.Errorf("root scan: %+v", im)
	}
	var keyFail bool
	for _, f := range im.Findings {
		keyFail = keyFail || (f.Rule == "ssh.private-keys" && f.Level == "fail")
	}
	if !keyFail {
		t.Errorf("--root scan missed the private key")
	}
	ls, _, code := runCmd(t, "ls", "--root", dir, "/root/.ssh")
	if code != 0 || !strings.Contains(ls, "id_ed25519") || !strings.Contains(ls, "-rw-------") {
		t.Errorf("ls --root: exit %d\n%s", code, ls)
	}
}

// TestShowContents: --show-contents prints log and authorized_keys bodies
// in text only, never a private key, and nothing in JSON.
func TestShowContents(t *testing.T) {
	leaky := gptImage(t, leakyTree())
	out, _, _ := runCmd(t, "scan", "--show-contents", leaky)
	for _, want := range []string{"| sshd[1]: Accepted publickey for root", "| " + strings.TrimSpace(leakyPub)} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	plain, _, _ := runCmd(t, "scan", leaky)
	if strings.Contains(plain, "Accepted publickey") {
		t.Errorf("bodies printed without --show-contents")
	}
	js, _, _ := runCmd(t, "scan", "--show-contents", "--format", "json", leaky)
	if strings.Contains(js, "Accepted publickey") || strings.Contains(js, "AAAAC3NzaC1lZDI1NTE5") {
		t.Errorf("--show-contents leaked bodies into JSON")
	}
	parity, _, _ := runCmd(t, "scan", "--profile", "img_check", "--show-contents", leaky)
	if !strings.Contains(parity, "sshd[1]: Accepted publickey for root") {
		t.Errorf("img_check frame lacks the log body with --show-contents:\n%s", parity)
	}
}

// TestHashDefault: JSON reports carry the image's SHA-256 unless
// --hash=false; other formats only with --hash.
func TestHashOnRequest(t *testing.T) {
	clean := gptImage(t, cleanTree())
	f, err := os.Open(clean)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if out, _, _ := runCmd(t, "scan", "--format", "json", "--hash", clean); !strings.Contains(out, `"sha256": "`+sum+`"`) {
		t.Errorf("JSON with --hash lacks the image hash")
	}
	if out, _, _ := runCmd(t, "scan", "--format", "json", clean); strings.Contains(out, `"sha256"`) {
		t.Errorf("JSON hashed without --hash (hashing reads the whole image)")
	}
	if out, _, _ := runCmd(t, "scan", clean); strings.Contains(out, "SHA-256") {
		t.Errorf("text hashed without --hash")
	}
	if out, _, _ := runCmd(t, "scan", "--hash", clean); !strings.Contains(out, "SHA-256: "+sum) {
		t.Errorf("text with --hash lacks the hash")
	}
}

// TestSARIFDefaults: SARIF holds only what needs action unless
// --sarif-all, and never a line region on the disk image.
func TestSARIFDefaults(t *testing.T) {
	clean := gptImage(t, cleanTree())
	leaky := gptImage(t, leakyTree())
	count := func(args ...string) (results int, out string) {
		t.Helper()
		out, _, _ = runCmd(t, append([]string{"scan", "--format", "sarif"}, args...)...)
		var log struct {
			Runs []struct{ Results []struct{ Level string } }
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil || len(log.Runs) != 1 {
			t.Fatalf("SARIF: %v\n%s", err, out)
		}
		for _, r := range log.Runs[0].Results {
			if r.Level == "none" && !slices.Contains(args, "--sarif-all") {
				t.Errorf("a result of level none without --sarif-all")
			}
		}
		return len(log.Runs[0].Results), out
	}
	if n, _ := count(clean); n != 0 {
		t.Errorf("clean image: %d SARIF results, want none", n)
	}
	if n, _ := count("--sarif-all", clean); n < 30 {
		t.Errorf("clean image with --sarif-all: %d results, want one per finding", n)
	}
	n, out := count(leaky)
	if n == 0 || strings.Contains(out, `"region"`) || !strings.Contains(out, `"primaryLocationLineHash"`) || !strings.Contains(out, `"security-severity": "8.0"`) {
		t.Errorf("leaky image: %d results; want results with fingerprints and severities and no region:\n%s", n, out)
	}
}
