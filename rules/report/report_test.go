package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// Secrets planted in findings to prove the redactor masks them in every
// output format, even when a rule let them through.
const (
	plantedHash  = "$6$saltsalt$Wq9xJ3V1oGmY0yQb7cWzq1JxkqRk0q2qv1Yq4jz7Zz0Yk3q2nJw1m0Q3eU8rQ9T1nV6xW2cA4bD5eF7gH8iJ0"
	plantedKey   = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----"
	plantedToken = "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	plantedURL   = "postgresql://doadmin:s3cr3tPassw0rd@db.example.com:25060/defaultdb"
)

var secretNeedles = []string{"saltsalt$Wq9x", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU", "0123456789abcdef0123456789abcdef", "s3cr3tPassw0rd"}

func result(id string, fs ...rules.Finding) rules.Result {
	for i := range fs {
		fs[i].Rule = id
	}
	return rules.Result{Rule: rules.Rule{ID: id, Title: id + " title", Profiles: []rules.Profile{rules.Marketplace}}, Findings: fs}
}

// sampleImages is a batch covering every report feature: a clean image, a
// failing image with secrets leaked into its findings and a waiver, an
// errored image and a parity-profile image.
func sampleImages() []Image {
	clean := Image{
		Path: "images/clean.qcow2", SHA256: strings.Repeat("ab", 32), Profile: rules.Marketplace,
		Started: time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC), Duration: 42 * time.Millisecond,
		Container:   []Layer{{Format: "qcow2", Detail: "v3", FileSize: 1 << 20}, {Format: "raw", FileSize: 10 << 30}},
		VirtualSize: 10 << 30, AllocatedSize: 1 << 20,
		Table:       &Table{Scheme: "gpt", SectorSize: 512, Partitions: []Partition{{Index: 1, Start: 1 << 20, Size: 9 << 30, Type: "linux"}}},
		Filesystems: []Filesystem{{Partition: 1, Type: "ext4", Offset: 1 << 20, Size: 9 << 30, Mountpoint: "/"}},
		OS:          OS{ID: "ubuntu", Name: "Ubuntu", VersionID: "22.04", PrettyName: "Ubuntu 22.04.4 LTS", Family: "deb"},
		Results: []rules.Result{
			result("os.supported", rules.Finding{Level: rules.Pass, Message: "Supported Operating System Detected: Ubuntu"}),
			result("pkg.security-updates", rules.Finding{Level: rules.Skip, Message: "no apt lists", SkipReason: rules.NotEvaluable}),
			result("accounts.users", rules.Finding{Level: rules.Info, Message: "no user accounts"}),
		},
		Stats: &Stats{Duration: 1500 * time.Millisecond, BytesRead: 4096, ReadCalls: 3, CacheHits: 1, CacheMiss: 3},
	}
	failing := Image{
		Path: "images/leaky.raw", Profile: rules.Marketplace, VirtualSize: 25 << 30, AllocatedSize: -1,
		OS: OS{Name: "Debian GNU/Linux", VersionID: "12", Family: "deb"},
		Results: []rules.Result{
			result("accounts.password", rules.Finding{Level: rules.Fail, Subject: "root", Message: "root has a password " + plantedHash,
				Evidence: []rules.KV{{Key: rules.KeyUser, Value: "root"}, {Key: rules.KeyScheme, Value: "sha512crypt"}, {Key: "raw", Value: plantedHash}}, Fix: "X7 lock the account"}),
			result("ssh.private-keys", rules.Finding{Level: rules.Fail, Subject: "/root/.ssh/id_ed25519", Message: "private key " + plantedKey,
				Evidence: []rules.KV{{Key: rules.KeyPath, Value: "/root/.ssh/id_ed25519"}, {Key: rules.KeyFingerprint, Value: "SHA256:abc"}}}),
			result("secrets.database-url", rules.Finding{Level: rules.Fail, Subject: "/etc/environment", Message: "DATABASE_URL=" + plantedURL,
				Evidence: []rules.KV{{Key: rules.KeyPath, Value: "/etc/environment"}, {Key: rules.KeyLine, Value: "3"}, {Key: rules.KeyValue, Value: plantedURL + " token=" + plantedToken}}}),
			result("ssh.known-hosts", rules.Finding{Level: rules.Warn, Subject: "/root/.ssh/known_hosts", Message: "known_hosts has 1 entry",
				Evidence: []rules.KV{{Key: rules.KeyPath, Value: "/root/.ssh/known_hosts"}, {Key: rules.KeyCount, Value: "1"}}}),
			result("logs.uncleared", rules.Finding{Level: rules.Warn, Subject: "/var/log/syslog", Message: "log not cleared", Waived: true, WaiverReason: "regenerated at boot"},
				rules.Finding{Level: rules.Warn, Subject: "/var/log/x\x01]]>y", Message: "odd name /var/log/x\x01]]>y", Waived: true, WaiverReason: "hostile name"}),
		},
	}
	broken := Image{Path: "images/garbage.img", Profile: rules.Marketplace, AllocatedSize: -1,
		Err: errors.New("qcow2: L1 table at 0x30000 runs past end of file (size 0x2000)")}
	parity := Image{Path: "/abs/parity image.raw", Profile: rules.ImgCheck, AllocatedSize: -1,
		Results: []rules.Result{
			result("users.password", rules.Finding{Level: rules.Fail, Subject: "alice", Message: "User alice has a password set on their account. Only system users are allowed on the image."}),
			result("root.password", rules.Finding{Level: rules.Pass, Message: "User root has no password set."}),
		}}
	out := []Image{clean, failing, broken, parity}
	for i := range out {
		out[i].Started, out[i].Duration = clean.Started, clean.Duration
	}
	return out
}

func render(t *testing.T, name string, reports []Image, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch name {
	case "text":
		err = Text(&buf, reports, o)
	case "json":
		err = JSON(&buf, reports, o)
	case "sarif":
		err = SARIF(&buf, reports, o)
	case "junit":
		err = JUnit(&buf, reports, o)
	case "summary":
		err = Summary(&buf, reports, o)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return buf.Bytes()
}

func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	return compileSchemaAt(t, path, "")
}

// compileSchemaAt compiles the schema file at path, or its part at
// fragment ("#/$defs/line").
func compileSchemaAt(t *testing.T, path, fragment string) *jsonschema.Schema {
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
	if err := c.AddResource("file:///"+path, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("file:///" + path + fragment)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, out []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("output does not validate: %v\n%s", err, out)
	}
}

func TestJSONValidatesAgainstSchema(t *testing.T) {
	s := compileSchema(t, "schema/report.schema.json")
	out := render(t, "json", sampleImages(), Options{Version: "1.2.3"})
	validate(t, s, out)

	var doc struct {
		SchemaVersion string `json:"schema_version"`
		Images        []struct {
			Path     string
			Verdict  string
			Error    string
			Counts   Counts
			Findings []struct {
				Rule    string
				Counted *bool
				Waived  bool
			}
			Stats *struct {
				Seconds   float64 `json:"seconds"`
				BytesRead int64   `json:"bytes_read"`
			}
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != SchemaVersion || len(doc.Images) != 4 {
		t.Fatalf("schema_version %q, %d images", doc.SchemaVersion, len(doc.Images))
	}
	want := []string{"pass", "fail", "error", "pass"}
	for i, im := range doc.Images {
		if im.Verdict != want[i] {
			t.Errorf("image %d (%s): verdict %s, want %s", i, im.Path, im.Verdict, want[i])
		}
	}
	if st := doc.Images[0].Stats; st == nil || st.Seconds != 1.5 || st.BytesRead != 4096 {
		t.Errorf("stats = %+v", st)
	}
	if c := doc.Images[1].Counts; c.Fail != 3 || c.Warn != 3 || c.Waived != 2 {
		t.Errorf("counts = %+v", c)
	}
	if doc.Images[2].Error == "" || len(doc.Images[2].Findings) != 0 {
		t.Errorf("broken image: %+v", doc.Images[2])
	}
	if f := doc.Images[3].Findings[0]; f.Counted == nil || *f.Counted {
		t.Errorf("parity finding must carry counted=false: %+v", f)
	}
	if f := doc.Images[0].Findings[0]; f.Counted != nil {
		t.Errorf("marketplace finding must not carry counted")
	}
}

func TestJSONSchemaRejectsBadReports(t *testing.T) {
	s := compileSchema(t, "schema/report.schema.json")
	// The control: each bad document below differs from this one in one place.
	good := `{"schema_version":"2","tool":{"name":"imgcheck","version":"x"},"generated_at":"2026-01-01T00:00:00Z","totals":{"images":1,"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdicts":{"pass":1,"warn":0,"error":0,"fail":0},"verdict":"pass"},"images":[{"path":"a","profile":"marketplace","tool_version":"x","container":[],"filesystems":[],"os":{},"findings":[{"rule":"a.b","level":"warn","message":"","evidence":{"path":"/x"},"approximate":false,"waived":true,"waiver_reason":"x"}],"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdict":"pass"}]}`
	if inst, err := jsonschema.UnmarshalJSON(strings.NewReader(good)); err != nil || s.Validate(inst) != nil {
		t.Fatalf("the control document does not validate: %v %v", err, s.Validate(inst))
	}
	for name, doc := range map[string]string{
		"no version":    `{"tool":{"name":"imgcheck","version":"x"},"images":[]}`,
		"bad level":     `{"schema_version":"2","tool":{"name":"imgcheck","version":"x"},"generated_at":"2026-01-01T00:00:00Z","totals":{"images":1,"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdicts":{"pass":1,"warn":0,"error":0,"fail":0},"verdict":"pass"},"images":[{"path":"a","profile":"marketplace","tool_version":"x","container":[],"filesystems":[],"os":{},"findings":[{"rule":"a.b","level":"bad","message":"","evidence":{},"approximate":false,"waived":false}],"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdict":"pass"}]}`,
		"waived error":  `{"schema_version":"2","tool":{"name":"imgcheck","version":"x"},"generated_at":"2026-01-01T00:00:00Z","totals":{"images":1,"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdicts":{"pass":1,"warn":0,"error":0,"fail":0},"verdict":"pass"},"images":[{"path":"a","profile":"marketplace","tool_version":"x","container":[],"filesystems":[],"os":{},"findings":[{"rule":"a.b","level":"error","message":"","evidence":{},"approximate":false,"waived":true,"waiver_reason":"x"}],"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdict":"pass"}]}`,
		"extra field":   `{"schema_version":"2","tool":{"name":"imgcheck","version":"x"},"generated_at":"2026-01-01T00:00:00Z","totals":{"images":1,"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdicts":{"pass":1,"warn":0,"error":0,"fail":0},"verdict":"pass"},"images":[],"extra":1}`,
		"wrong verdict": `{"schema_version":"2","tool":{"name":"imgcheck","version":"x"},"generated_at":"2026-01-01T00:00:00Z","totals":{"images":1,"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdicts":{"pass":1,"warn":0,"error":0,"fail":0},"verdict":"pass"},"images":[{"path":"a","profile":"marketplace","tool_version":"x","container":[],"filesystems":[],"os":{},"findings":[],"counts":{"pass":0,"info":0,"skip":0,"warn":0,"fail":0,"error":0,"waived":0},"verdict":"ok"}]}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Validate(inst) == nil {
			t.Errorf("%s: schema accepted an invalid report", name)
		}
	}
}

func TestSARIFValidatesAgainstSARIFSchema(t *testing.T) {
	s := compileSchema(t, "testdata/sarif-schema-2.1.0.json")
	out := render(t, "sarif", sampleImages(), Options{Version: "1.2.3"})
	validate(t, s, out)

	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID   string
						Help struct{ Text string }
					}
				}
			}
			Results []struct {
				RuleID              string
				RuleIndex           int
				Level               string
				Kind                string
				PartialFingerprints map[string]string
				Suppressions        []struct{ Kind string }
				Locations           []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
					}
					LogicalLocations []struct{ FullyQualifiedName string }
				}
			}
		}
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	seen := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if seen[r.ID] {
			t.Errorf("rule %s listed twice", r.ID)
		}
		seen[r.ID] = true
		if r.Help.Text == "" {
			t.Errorf("rule %s has no help text", r.ID)
		}
	}
	uris := map[string]bool{}
	var suppressed int
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule index %d", r.RuleID, r.RuleIndex)
		}
		if len(r.Locations) != 1 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" {
			t.Errorf("result %s has no artifact location", r.RuleID)
			continue
		}
		uris[r.Locations[0].PhysicalLocation.ArtifactLocation.URI] = true
		if len(r.PartialFingerprints) == 0 {
			t.Errorf("result %s has no partialFingerprints", r.RuleID)
		}
		if r.RuleID == "ssh.private-keys" && r.Locations[0].LogicalLocations[0].FullyQualifiedName != "/root/.ssh/id_ed25519" {
			t.Errorf("guest path not a logical location: %+v", r.Locations[0])
		}
		suppressed += len(r.Suppressions)
	}
	for _, u := range []string{"images/leaky.raw", "images/garbage.img", "file:///abs/parity%20image.raw"} {
		if !uris[u] {
			t.Errorf("no result located in %s (have %v)", u, uris)
		}
	}
	if uris["images/clean.qcow2"] {
		t.Errorf("the clean image has results, but it has nothing to act on (PASS/INFO/SKIP only with SARIFAll)")
	}
	if suppressed != 2 {
		t.Errorf("%d suppressed results, want the 2 waived findings", suppressed)
	}
	checkGitHubSARIF(t, out)

	all := render(t, "sarif", sampleImages(), Options{Version: "1.2.3", SARIFAll: true})
	validate(t, s, all)
	checkGitHubSARIF(t, all)
	if !strings.Contains(string(all), `"uri": "images/clean.qcow2"`) || !strings.Contains(string(all), `"kind": "pass"`) {
		t.Errorf("SARIFAll lacks the clean image's pass results")
	}
}

// checkGitHubSARIF checks what GitHub code scanning documents for uploads
// beyond the SARIF schema: at most 25 MB and 5000 results a run, every
// result with a message, a ruleId, an artifact URI and a
// primaryLocationLineHash (so GitHub never reads the artifact to compute
// one), no line region on a disk image, and every rule with help, a
// helpUri and a security-severity between 0 and 10.
func checkGitHubSARIF(t *testing.T, out []byte) {
	t.Helper()
	if len(out) > 25<<20 {
		t.Errorf("SARIF of %d bytes is over GitHub's 25 MB", len(out))
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID               string
						HelpURI          string
						ShortDescription struct{ Text string }
						FullDescription  struct{ Text string }
						Help             struct{ Text, Markdown string }
						Properties       map[string]any
					}
				}
			}
			Results []struct {
				RuleID              string
				Message             struct{ Text string }
				PartialFingerprints map[string]string
				Locations           []struct {
					PhysicalLocation map[string]json.RawMessage
				}
			}
		}
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	for _, run := range log.Runs {
		if len(run.Results) > 5000 {
			t.Errorf("%d results in a run, over GitHub's 5000", len(run.Results))
		}
		for _, r := range run.Tool.Driver.Rules {
			sev, _ := r.Properties["security-severity"].(string)
			if v, err := strconv.ParseFloat(sev, 64); err != nil || v < 0 || v > 10 {
				t.Errorf("rule %s: security-severity %q", r.ID, sev)
			}
			if r.HelpURI == "" || r.Help.Text == "" || r.Help.Markdown == "" || r.ShortDescription.Text == r.FullDescription.Text {
				t.Errorf("rule %s: helpUri %q, help %q/%q, short and full descriptions %q/%q", r.ID, r.HelpURI, r.Help.Text, r.Help.Markdown, r.ShortDescription.Text, r.FullDescription.Text)
			}
		}
		for _, r := range run.Results {
			if r.RuleID == "" || r.Message.Text == "" || r.PartialFingerprints["primaryLocationLineHash"] == "" {
				t.Errorf("result %+v lacks a ruleId, message or primaryLocationLineHash", r)
			}
			for _, l := range r.Locations {
				if _, ok := l.PhysicalLocation["region"]; ok {
					t.Errorf("result %s has a region in a disk image", r.RuleID)
				}
			}
		}
	}
}

func TestJUnitStructure(t *testing.T) {
	for _, tc := range []struct {
		failOn                           rules.Level
		tests, failures, errors, skipped int
	}{
		// clean: 3 cases (1 skipped); leaky: 5 cases (3 FAIL); garbage: 1 error;
		// parity: 2 cases, the user FAIL is not counted by the script (Q1).
		{rules.Fail, 11, 3, 1, 1},
		// --fail-on warn: the known_hosts WARN fails too, the waived WARN does not.
		{rules.Warn, 11, 4, 1, 1},
	} {
		out := render(t, "junit", sampleImages(), Options{FailOn: tc.failOn})
		var doc junitSuites
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("not XML: %v\n%s", err, out)
		}
		if doc.Tests != tc.tests || doc.Failures != tc.failures || doc.Errors != tc.errors || doc.Skipped != tc.skipped {
			t.Errorf("fail-on %s: tests=%d failures=%d errors=%d skipped=%d, want %d/%d/%d/%d", tc.failOn,
				doc.Tests, doc.Failures, doc.Errors, doc.Skipped, tc.tests, tc.failures, tc.errors, tc.skipped)
		}
		if len(doc.Suites) != 4 || len(doc.Suites[0].Cases) != 3 {
			t.Fatalf("want 4 suites, the first with 3 testcases: %+v", doc.Suites)
		}
		var warnProp bool
		for _, c := range doc.Suites[1].Cases {
			if c.Name == "ssh.known-hosts" {
				warnProp = c.Properties != nil && len(c.Properties.Property) == 1 && c.Properties.Property[0].Name == "warn"
			}
		}
		if tc.failOn == rules.Fail && !warnProp {
			t.Errorf("the WARN is not a testcase property")
		}
		for _, su := range doc.Suites {
			if su.Time == "" || su.Timestamp == "" {
				t.Errorf("suite %s: time %q timestamp %q", su.Name, su.Time, su.Timestamp)
			}
			for _, c := range su.Cases {
				if c.Time == "" {
					t.Errorf("%s %s: no time", su.Name, c.Name)
				}
				if c.Failure != nil {
					for _, line := range strings.Split(strings.TrimSpace(c.Failure.Body), "\n") {
						if !strings.HasPrefix(line, "[FAIL]") && !strings.HasPrefix(line, "[WARN]") {
							t.Errorf("%s %s: failure body lists a finding that does not fail: %q", su.Name, c.Name, line)
						}
					}
				}
				if c.Name == "ssh.known-hosts" && tc.failOn == rules.Fail && (c.SystemOut == nil || !strings.Contains(c.SystemOut.Text, "[WARN]")) {
					t.Errorf("the WARN is not in the testcase's system-out: %+v", c.SystemOut)
				}
			}
		}
	}
}

func TestNoSecretsInAnyFormat(t *testing.T) {
	for _, name := range []string{"text", "json", "sarif", "junit", "summary"} {
		out := render(t, name, sampleImages(), Options{Color: true})
		for _, s := range secretNeedles {
			if bytes.Contains(out, []byte(s)) {
				t.Errorf("%s output contains the planted secret %q", name, s)
			}
		}
	}
	text := string(render(t, "text", sampleImages(), Options{}))
	for _, want := range []string{"[redacted $6$ hash]", "[redacted OPENSSH private key]", "[redacted token]", "doadmin:****@db.example.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

func TestTextGroupsByLevel(t *testing.T) {
	out := string(render(t, "text", sampleImages()[1:2], Options{}))
	fail := strings.Index(out, "\nFAIL\n")
	warn := strings.Index(out, "\nWARN\n")
	if fail < 0 || warn < 0 || fail > warn {
		t.Fatalf("want a FAIL group before the WARN group:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour without Options.Color")
	}
	for _, want := range []string{
		"[FAIL] accounts.password: root has a password",
		"user=root scheme=sha512crypt",
		"fix: X7 lock the account",
		"[waived: regenerated at boot]",
		"images/leaky.raw: FAIL: 3 FAIL, 0 ERROR, 3 WARN, 0 INFO, 0 SKIP, 0 PASS (2 waived)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if c := string(render(t, "text", sampleImages()[1:2], Options{Color: true})); !strings.Contains(c, "\x1b[1;31m[FAIL]\x1b[0m") {
		t.Errorf("no colour with Options.Color")
	}
}

func TestSummaryTable(t *testing.T) {
	ims := sampleImages()
	out := string(render(t, "summary", []Image{ims[2], ims[1], ims[0]}, Options{}))
	table, byRule, _ := strings.Cut(out, "\n\n")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 6 {
		t.Fatalf("want header, 3 rows, 1 reason and a total:\n%s", out)
	}
	for i, prefix := range []string{"IMAGE", "images/clean.qcow2", "images/garbage.img", "images/leaky.raw"} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q (sorted by path)", i, lines[i], prefix)
		}
	}
	if !strings.Contains(lines[1], "Ubuntu") || !strings.Contains(lines[1], "22.04") || !strings.Contains(lines[1], "10.00 GiB") || !strings.HasSuffix(lines[1], "PASS") {
		t.Errorf("clean row = %q", lines[1])
	}
	if !strings.HasSuffix(lines[2], "ERROR") || !strings.Contains(lines[4], "L1 table at 0x30000") {
		t.Errorf("garbage row = %q, reason = %q", lines[2], lines[4])
	}
	if lines[5] != "3 images: 1 pass, 0 warn, 1 fail, 1 error" {
		t.Errorf("total = %q", lines[5])
	}
	// The cross-image summary: per rule, images at FAIL, ERROR and WARN,
	// worst first; waived findings are not counted.
	want := []string{
		"Images per rule (of 3):",
		"RULE                  FAIL  ERROR  WARN",
		"accounts.password     1     0      0",
		"secrets.database-url  1     0      0",
		"ssh.private-keys      1     0      0",
		"image.unreadable      0     1      0",
		"ssh.known-hosts       0     0      1",
	}
	if got := strings.Split(strings.TrimSpace(byRule), "\n"); !slices.Equal(got, want) {
		t.Errorf("rule summary:\n%s\nwant:\n%s", byRule, strings.Join(want, "\n"))
	}
}

// TestSummaryContentErrorReason: an image that opened but whose rules
// errored (or whose root could not be read) shows the reason under the
// table, as an unopenable one does.
func TestSummaryContentErrorReason(t *testing.T) {
	ruleErr := Image{Path: "images/ruleerr.raw", AllocatedSize: -1, Results: []rules.Result{result("ssh.known-hosts",
		rules.Finding{Level: rules.Error, Message: "cannot read /root/.ssh/known_hosts: ext4: bad extent"})}}
	noRoot := Image{Path: "images/lvm.raw", AllocatedSize: -1, RootError: "LVM2 physical volume on partition 2",
		Results: []rules.Result{
			result("os.supported", rules.Finding{Level: rules.Error, Message: "cannot evaluate", Evidence: []rules.KV{{Key: rules.KeyReason, Value: facts.ErrNoGuest.Error()}}}),
			result("ssh.server", rules.Finding{Level: rules.Error, Message: "cannot evaluate", Evidence: []rules.KV{{Key: rules.KeyReason, Value: facts.ErrNoGuest.Error()}}}),
		}}
	out := string(render(t, "summary", []Image{ruleErr, noRoot}, Options{}))
	for _, want := range []string{
		"images/ruleerr.raw: ssh.known-hosts: cannot read /root/.ssh/known_hosts: ext4: bad extent\n",
		"images/lvm.raw: no readable root filesystem: LVM2 physical volume on partition 2\n",
		"image.no-root ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// The rules the missing root kept from running are one row, not one each.
	for _, unwanted := range []string{"os.supported", "ssh.server"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("summary lists %s, which never ran:\n%s", unwanted, out)
		}
	}
}

func TestExitCode(t *testing.T) {
	ims := sampleImages()
	clean, leaky, broken, parity := ims[0], ims[1], ims[2], ims[3]
	warnOnly := Image{Path: "w", Results: []rules.Result{result("ssh.known-hosts", rules.Finding{Level: rules.Warn})}}
	waivedFail := Image{Path: "wf", Results: []rules.Result{result("ssh.known-hosts", rules.Finding{Level: rules.Fail, Waived: true, WaiverReason: "r"})}}
	ruleError := Image{Path: "e", Results: []rules.Result{result("ssh.known-hosts", rules.Finding{Level: rules.Error}, rules.Finding{Level: rules.Warn})}}
	parityStatus2 := Image{Path: "p", Profile: rules.ImgCheck, Results: []rules.Result{result("root.password", rules.Finding{Level: rules.Fail})}}
	for _, tc := range []struct {
		name   string
		ims    []Image
		failOn rules.Level
		want   int
	}{
		{"clean", []Image{clean}, rules.Fail, 0},
		{"fail beats error", []Image{broken, leaky}, rules.Fail, 1},
		{"unreadable image", []Image{clean, broken}, rules.Fail, 3},
		{"rule error", []Image{ruleError}, rules.Warn, 3},
		{"warn alone passes", []Image{warnOnly}, rules.Fail, 0},
		{"fail-on warn", []Image{warnOnly}, rules.Warn, 1},
		{"waived fail", []Image{waivedFail}, rules.Warn, 0},
		{"parity Q1 user fail not counted", []Image{parity}, rules.Fail, 0},
		{"parity status 2", []Image{parityStatus2}, rules.Fail, 1},
		{"nothing", nil, rules.Fail, 0},
	} {
		if got := ExitCode(tc.ims, tc.failOn); got != tc.want {
			t.Errorf("%s: ExitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestTextControlCharacters(t *testing.T) {
	im := Image{Path: "x.raw", Results: []rules.Result{result("logs.uncleared",
		rules.Finding{Level: rules.Warn, Subject: "/var/log/\x1b[2Jevil", Message: "log /var/log/\x1b[2Jevil\x07 not cleared",
			Evidence: []rules.KV{{Key: rules.KeyPath, Value: "/var/log/\x1b[2Jevil"}}})}}
	out := string(render(t, "text", []Image{im}, Options{}))
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters reached the terminal: %q", out)
	}
	if !strings.Contains(out, `log /var/log/\x1b[2Jevil\a not cleared`) || !strings.Contains(out, `path="/var/log/\x1b[2Jevil"`) {
		t.Errorf("text = %q", out)
	}
}

// TestArtifactURI: image paths become valid URI references (trivy #1182
// produced invalid ones for names with a colon).
func TestArtifactURI(t *testing.T) {
	for in, want := range map[string]string{
		"images/a b.qcow2":  "images/a%20b.qcow2",
		"vendor:app-v2.raw": "./vendor:app-v2.raw",
		"/srv/images/x.raw": "file:///srv/images/x.raw",
		"images/100%.qcow2": "images/100%25.qcow2",
		"images/#1?.qcow2":  "images/%231%3F.qcow2",
	} {
		if got := artifactURI(in); got != want {
			t.Errorf("artifactURI(%q) = %q, want %q", in, got, want)
		}
	}
}
