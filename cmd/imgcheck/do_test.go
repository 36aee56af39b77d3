package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// testToken is the API token of these tests. It may appear in the
// Authorization header of a request and nowhere else.
const testToken = "dop_v1_5e1f0c3a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f2a4c6e8b0d1f"

// apiRequest is one request the fake API received.
type apiRequest struct {
	Method, Path, Body string
}

// fakeAPI is an httptest server speaking the DigitalOcean API's JSON shapes
// (godo's Image, Snapshot, Size, Links and ErrorResponse; the Vendor API's
// update answer). It records every request and checks that the token
// travels only in the Authorization header.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server
	mu  sync.Mutex
	log []apiRequest
	// image is the record served at /v2/images/123456.
	image map[string]any
	// fail503 is how many requests answer 503 (Retry-After: 0) before the
	// server behaves.
	fail503 int
	// patchStatus, when not 0, is the status every PATCH answers.
	patchStatus int
}

func newFakeAPI(t *testing.T) *fakeAPI {
	a := &fakeAPI{t: t, image: map[string]any{
		"id": 123456, "name": "myapp-1.4-ubuntu-22-04", "distribution": "Ubuntu", "slug": nil, "public": false,
		"regions": []string{"nyc3", "ams3"}, "created_at": "2026-11-20T10:00:00Z", "min_disk_size": 1,
		"size_gigabytes": 0.06, "type": "custom", "status": "available", "tags": []string{},
	}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	t.Setenv("DIGITALOCEAN_TOKEN", testToken)
	t.Setenv("DIGITALOCEAN_API_TOKEN", "")
	return a
}

func (a *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.log = append(a.log, apiRequest{r.Method, r.URL.Path, string(body)})
	fail := a.fail503 > 0
	if fail {
		a.fail503--
	}
	a.mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		a.t.Errorf("%s %s: Authorization %q", r.Method, r.URL.Path, got)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if k != "Authorization" && strings.Contains(v, testToken) {
				a.t.Errorf("token in header %s", k)
			}
		}
	}
	if strings.Contains(r.URL.String(), testToken) || strings.Contains(string(body), testToken) {
		a.t.Errorf("token in the URL or body of %s %s", r.Method, r.URL.Path)
	}
	if fail {
		w.Header().Set("Retry-After", "0")
		apiJSON(w, http.StatusServiceUnavailable, map[string]any{"id": "service_unavailable", "message": "try again"})
		return
	}
	switch {
	case r.URL.Path == "/v2/images/777":
		<-r.Context().Done() // an endpoint that never answers
	case r.Method == http.MethodGet && r.URL.Path == "/v2/images/123456":
		apiJSON(w, 200, map[string]any{"image": a.image})
	case r.Method == http.MethodGet && r.URL.Path == "/v2/snapshots/6372321a-8a7b-4ec0-9cde-0f0a1a2b3c4d":
		apiJSON(w, 200, map[string]any{"snapshot": map[string]any{
			"id": "6372321a-8a7b-4ec0-9cde-0f0a1a2b3c4d", "name": "web-01-snap", "regions": []string{"nyc1"},
			"created_at": "2026-11-21T08:00:00Z", "resource_id": "200", "resource_type": "droplet",
			"min_disk_size": 25, "size_gigabytes": 2.34, "tags": []string{}}})
	case r.Method == http.MethodGet && r.URL.Path == "/v2/sizes":
		a.sizes(w, r)
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v1/vendor-portal/apps/"):
		if a.patchStatus != 0 {
			apiJSON(w, a.patchStatus, map[string]any{"id": "forbidden", "message": "You are not authorized to perform this operation"})
			return
		}
		apiJSON(w, 200, map[string]any{"appId": "60089fc6d333037bffa70d9b", "version": "1.4", "status": map[string]any{"value": "pending"}})
	default:
		apiJSON(w, 404, map[string]any{"id": "not_found", "message": "The resource you were accessing could not be found."})
	}
}

// sizes serves two pages of sizes, linked as the API links them.
func (a *fakeAPI) sizes(w http.ResponseWriter, r *http.Request) {
	size := func(slug string, disk int, price float64, avail bool) map[string]any {
		return map[string]any{"slug": slug, "memory": 1024, "vcpus": 1, "disk": disk, "transfer": 1.0,
			"price_monthly": price, "price_hourly": price / 672, "regions": []string{"nyc3"}, "available": avail}
	}
	base := a.srv.URL + "/v2/sizes?page="
	if r.URL.Query().Get("page") == "2" {
		apiJSON(w, 200, map[string]any{
			"sizes": []any{size("s-1vcpu-512mb-10gb", 10, 4, true), size("s-retired", 20, 5, false)},
			"links": map[string]any{"pages": map[string]any{"first": base + "1", "prev": base + "1"}},
			"meta":  map[string]any{"total": 4}})
		return
	}
	apiJSON(w, 200, map[string]any{
		"sizes": []any{size("s-2vcpu-2gb", 60, 18, true), size("s-1vcpu-1gb", 25, 6, true)},
		"links": map[string]any{"pages": map[string]any{"next": base + "2", "last": base + "2"}},
		"meta":  map[string]any{"total": 4}})
}

func apiJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// requests returns the requests received with the given method, or all
// of them for "".
func (a *fakeAPI) requests(method string) []apiRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []apiRequest
	for _, r := range a.log {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// noToken fails the test if the token appears in any of the texts.
func noToken(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, testToken) || strings.Contains(s, testToken[8:40]) {
			t.Errorf("the token was printed:\n%s", s)
		}
	}
}

func TestDoImage(t *testing.T) {
	api := newFakeAPI(t)
	out, stderr, code := runCmd(t, "do", "image", "--api-url", api.srv.URL, "123456")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"myapp-1.4-ubuntu-22-04", "Distribution:   Ubuntu", "Min disk size:  1 GB", "Size:           0.06 GB", "Regions:        nyc3, ams3", "Status:         available"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	js, _, code := runCmd(t, "do", "image", "--json", "--api-url", api.srv.URL, "6372321a-8a7b-4ec0-9cde-0f0a1a2b3c4d")
	var snap struct {
		ID, Name, Kind string
		MinDisk        int      `json:"min_disk_size"`
		Size           float64  `json:"size_gigabytes"`
		Regions        []string `json:"regions"`
	}
	if err := json.Unmarshal([]byte(js), &snap); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, js)
	}
	if snap.Kind != "snapshot" || snap.Name != "web-01-snap" || snap.MinDisk != 25 || snap.Size != 2.34 || len(snap.Regions) != 1 {
		t.Errorf("snapshot = %+v", snap)
	}
	noToken(t, out, stderr, js)
}

func TestDoImageNotFound(t *testing.T) {
	api := newFakeAPI(t)
	out, stderr, code := runCmd(t, "do", "image", "--api-url", api.srv.URL, "999")
	if code != 3 || out != "" {
		t.Errorf("exit %d, stdout %q; want 3 and nothing", code, out)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "HTTP 404") || !strings.Contains(stderr, "image 999") {
		t.Errorf("stderr = %q, want one line naming the image and the status", stderr)
	}
	noToken(t, stderr)
}

func TestDoMissingToken(t *testing.T) {
	api := newFakeAPI(t)
	t.Setenv("DIGITALOCEAN_TOKEN", "")
	img := gptImage(t, cleanTree())
	for _, args := range [][]string{
		{"do", "image", "--api-url", api.srv.URL, "123456"},
		{"scan", "--do-image", "123456", "--api-url", api.srv.URL, img},
		{"do", "submit", "--api-url", api.srv.URL, "--app-id", "app", "--image-id", "123456", img},
	} {
		out, stderr, code := runCmd(t, args...)
		if code != 2 || out != "" || !strings.Contains(stderr, "DIGITALOCEAN_TOKEN") || !strings.Contains(stderr, "DIGITALOCEAN_API_TOKEN") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args[:2], code, out, stderr)
		}
	}
	if n := len(api.requests("")); n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
	// --token-file replaces the variables.
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCmd(t, "do", "image", "--token-file", tf, "--api-url", api.srv.URL, "123456")
	if code != 0 || !strings.Contains(out, "myapp-1.4") {
		t.Errorf("--token-file: exit %d: %s", code, stderr)
	}
	noToken(t, out, stderr)
}

// findingsOf decodes a JSON report and returns the findings of one rule by
// subject.
func findingsOf(t *testing.T, js, rule string) map[string]map[string]any {
	t.Helper()
	var doc struct {
		Images []struct {
			Findings []map[string]any `json:"findings"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || len(doc.Images) != 1 {
		t.Fatalf("report: %v\n%s", err, js)
	}
	out := map[string]map[string]any{}
	for _, f := range doc.Images[0].Findings {
		if f["rule"] == rule {
			s, _ := f["subject"].(string)
			out[s] = f
		}
	}
	return out
}

func TestScanDOImageMatches(t *testing.T) {
	api := newFakeAPI(t)
	img := fixtures.MustQCOW2(t, gptImage(t, cleanTree()), fixtures.QCOW2Options{})
	js, stderr, code := runCmd(t, "scan", "--format", "json", "--do-image", "123456", "--api-url", api.srv.URL, img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	validateJSON(t, schema(t, "../../rules/report/schema/report.schema.json"), []byte(js))
	do := findingsOf(t, js, "do.image")
	if do["distribution"]["level"] != "pass" || do["min_disk_size"]["level"] != "pass" || do["plans"]["level"] != "info" {
		t.Errorf("do.image findings = %v", do)
	}
	// The sizes API's plans (both pages, available only) feed disk.plans.
	plans := findingsOf(t, js, "disk.plans")["disk"]
	msg, _ := plans["message"].(string)
	ev, _ := plans["evidence"].(map[string]any)
	if msg != "cheapest plan that can launch the image: s-1vcpu-512mb-10gb ($4.00/month, 10 GB disk); 3 of 3 plans can (DigitalOcean sizes API)" ||
		ev["fits"] != "s-1vcpu-512mb-10gb: 10 GB disk at $4.00/month, s-1vcpu-1gb: 25 GB disk at $6.00/month, s-2vcpu-2gb: 60 GB disk at $18.00/month" {
		t.Errorf("disk.plans = %q %v", msg, ev)
	}
	if got := len(api.requests(http.MethodGet)); got != 3 {
		t.Errorf("%d GET requests, want 3 (image, two pages of sizes)", got)
	}
	noToken(t, js, stderr)
}

func TestScanDOImageMismatch(t *testing.T) {
	api := newFakeAPI(t)
	api.image["distribution"] = "Debian"
	api.image["min_disk_size"] = 25
	img := gptImage(t, cleanTree())
	report := filepath.Join(t.TempDir(), "r.json")
	sarif := filepath.Join(t.TempDir(), "r.sarif")
	out, stderr, code := runCmd(t, "scan", "--color", "never", "-v", "--format", "text", "--format", "json="+report, "--format", "sarif="+sarif,
		"--do-image", "123456", "--api-url", api.srv.URL, img)
	if code != 0 {
		t.Errorf("exit %d, want 0: the mismatches are WARNs: %s", code, stderr)
	}
	for _, want := range []string{
		`the API says the image is "Debian", the scan found Ubuntu 22.04`,
		"the API's min_disk_size 25 is larger than the 1 GiB the scanned virtual disk needs",
		"can launch the image, cheapest first: s-1vcpu-1gb, s-2vcpu-2gb",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	js, _ := os.ReadFile(report)
	do := findingsOf(t, string(js), "do.image")
	if do["distribution"]["level"] != "warn" || do["min_disk_size"]["level"] != "warn" {
		t.Errorf("JSON do.image findings = %v", do)
	}
	sd, _ := os.ReadFile(sarif)
	if !strings.Contains(string(sd), "do.image") {
		t.Errorf("SARIF lacks do.image")
	}
	noToken(t, out, stderr, string(js), string(sd))
	// The same scan fails with --fail-on warn.
	if _, _, code := runCmd(t, "scan", "--fail-on", "warn", "--do-image", "123456", "--api-url", api.srv.URL, img); code != 1 {
		t.Errorf("--fail-on warn: exit %d, want 1", code)
	}
}

func TestScanDOImageAPIFailure(t *testing.T) {
	api := newFakeAPI(t)
	img := gptImage(t, cleanTree())
	out, stderr, code := runCmd(t, "scan", "--do-image", "404404", "--api-url", api.srv.URL, img)
	if code != 3 || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "HTTP 404") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3, nothing, one line", code, out, stderr)
	}
}

// submitArgs are the arguments of a submission to the fake API.
func submitArgs(api *fakeAPI, extra ...string) []string {
	return append([]string{"do", "submit", "--api-url", api.srv.URL, "--app-id", "60089fc6d333037bffa70d9b", "--version", "1.4",
		"--reason", "security updates", "--os-version", "Ubuntu 22.04", "--software", "Nginx=1.18.0,Ubuntu=22.04"}, extra...)
}

func TestDoSubmitGate(t *testing.T) {
	api := newFakeAPI(t)
	leaky := gptImage(t, leakyTree())
	out, stderr, code := runCmd(t, submitArgs(api, "--image-id", "123456", leaky)...)
	if code != 1 || !strings.Contains(stderr, "nothing was sent") || !strings.Contains(out, "[FAIL]") {
		t.Errorf("failing scan: exit %d, stderr %q", code, stderr)
	}
	if n := len(api.requests("")); n != 0 {
		t.Errorf("a failing scan sent %d requests", n)
	}
	for _, needle := range secretNeedles {
		if strings.Contains(out+stderr, needle) {
			t.Errorf("the gate's report printed a planted secret %q", needle)
		}
	}
	noToken(t, out, stderr)
}

func TestDoSubmitSends(t *testing.T) {
	api := newFakeAPI(t)
	clean := gptImage(t, cleanTree())
	out, stderr, code := runCmd(t, submitArgs(api, "--image-id", "123456", clean)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	patches := api.requests(http.MethodPatch)
	if len(patches) != 1 {
		t.Fatalf("%d PATCH requests, want 1", len(patches))
	}
	if p := patches[0].Path; p != "/api/v1/vendor-portal/apps/60089fc6d333037bffa70d9b/versions/1.4" {
		t.Errorf("path %s", p)
	}
	var body struct {
		ImageID          int     `json:"imageId"`
		Reason           *string `json:"reasonForUpdate"`
		Version          *string `json:"version"`
		OSVersion        *string `json:"osVersion"`
		SoftwareIncluded []struct{ Name, Version string }
	}
	if err := json.Unmarshal([]byte(patches[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	if body.ImageID != 123456 || body.Reason == nil || *body.Reason != "security updates" || *body.Version != "1.4" ||
		*body.OSVersion != "Ubuntu 22.04" || len(body.SoftwareIncluded) != 2 || body.SoftwareIncluded[0].Name != "Nginx" {
		t.Errorf("body %s", patches[0].Body)
	}
	if !strings.Contains(out, "submitted image 123456") || !strings.Contains(out, "status pending") {
		t.Errorf("stdout lacks the confirmation:\n%s", out)
	}
	noToken(t, out, stderr)
}

func TestDoSubmitManifestAndRetries(t *testing.T) {
	api := newFakeAPI(t)
	api.fail503 = 2
	clean := gptImage(t, cleanTree())
	manifest := filepath.Join(t.TempDir(), "packer-manifest.json")
	m := `{"builds":[{"name":"old","builder_type":"qemu","artifact_id":"nyc3:111"},` +
		`{"name":"myapp","builder_type":"qemu","artifact_id":"nyc3:413639","packer_run_uuid":"5b0f5f2d"}],"last_run_uuid":"5b0f5f2d"}`
	if err := os.WriteFile(manifest, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without --reason the body has no reasonForUpdate: the listing keeps its own.
	out, stderr, code := runCmd(t, "do", "submit", "--api-url", api.srv.URL, "--app-id", "app1", "--manifest", manifest, clean)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	patches := api.requests(http.MethodPatch)
	if len(patches) != 3 {
		t.Fatalf("%d PATCH requests, want 3 (two 503s, then success)", len(patches))
	}
	for _, p := range patches {
		if p.Body != patches[2].Body || p.Path != "/api/v1/vendor-portal/apps/app1" {
			t.Errorf("retry differs: %+v", p)
		}
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(patches[2].Body), &body); err != nil {
		t.Fatal(err)
	}
	if body["imageId"] != float64(413639) || len(body) != 1 {
		t.Errorf("body %s, want only the manifest's image ID", patches[2].Body)
	}
	noToken(t, out, stderr)
}

func TestDoSubmitDryRun(t *testing.T) {
	api := newFakeAPI(t)
	clean := gptImage(t, cleanTree())
	out, stderr, code := runCmd(t, submitArgs(api, "--image-id", "123456", "--dry-run", clean)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(api.requests("")); n != 0 {
		t.Errorf("--dry-run sent %d requests", n)
	}
	head, body, ok := strings.Cut(out[strings.Index(out, "dry run, not sent"):], "\n")
	if !ok || head != "dry run, not sent: PATCH "+api.srv.URL+"/api/v1/vendor-portal/apps/60089fc6d333037bffa70d9b/versions/1.4" {
		t.Errorf("dry-run line %q", head)
	}
	var b map[string]any
	if err := json.Unmarshal([]byte(body), &b); err != nil || b["imageId"] != float64(123456) || b["reasonForUpdate"] != "security updates" {
		t.Errorf("dry-run body %v %s", err, body)
	}
	// With --format json, stdout is one JSON object (the report, the
	// request, not sent) and the note goes to stderr.
	out, stderr, code = runCmd(t, submitArgs(api, "--image-id", "123456", "--dry-run", "--format", "json", clean)...)
	var doc struct {
		Scan struct {
			SchemaVersion string `json:"schema_version"`
		}
		Request struct {
			Method, URL string
			Body        map[string]any
		}
		DryRun bool `json:"dry_run"`
		Sent   bool
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&doc); err != nil || dec.More() || code != 0 {
		t.Fatalf("dry run --format json: exit %d, not one JSON object on stdout: %v\n%s", code, err, out)
	}
	if doc.Scan.SchemaVersion == "" || doc.Request.Method != "PATCH" || doc.Request.Body["imageId"] != float64(123456) || !doc.DryRun || doc.Sent {
		t.Errorf("dry run JSON: %+v", doc)
	}
	if !strings.Contains(stderr, "dry run, not sent") {
		t.Errorf("the dry-run note is not on stderr: %q", stderr)
	}
	// A dry run of a failing scan exits 1 and prints no request.
	leaky := gptImage(t, leakyTree())
	out, _, code = runCmd(t, submitArgs(api, "--image-id", "123456", "--dry-run", leaky)...)
	if code != 1 || strings.Contains(out, "dry run, not sent") {
		t.Errorf("dry run of a failing scan: exit %d", code)
	}
}

func TestDoSubmitUsageAndAPIErrors(t *testing.T) {
	api := newFakeAPI(t)
	clean := gptImage(t, cleanTree())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"do", "submit", "--api-url", api.srv.URL, "--image-id", "1", clean}, "--app-id is required"},
		{[]string{"do", "submit", "--api-url", api.srv.URL, "--app-id", "a", clean}, "--image-id or --manifest is required"},
		{[]string{"do", "submit", "--api-url", api.srv.URL, "--app-id", "a", "--image-id", "1", "--software", "nover", clean}, "--software"},
		{[]string{"do", "submit", "--api-url", api.srv.URL, "--app-id", "a", "--manifest", filepath.Join(t.TempDir(), "none.json"), clean}, "none.json"},
		{[]string{"do", "submit", "--api-url", api.srv.URL, "--app-id", "a", "--image-id", "1"}, "expected 1 argument"},
	} {
		out, stderr, code := runCmd(t, tc.args...)
		if code != 2 || out != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args[4:], code, out, stderr, tc.want)
		}
	}
	// The API refusing the update is exit 3, one line, after the report.
	api.patchStatus = http.StatusForbidden
	out, stderr, code := runCmd(t, submitArgs(api, "--image-id", "123456", clean)...)
	if code != 3 || !strings.Contains(stderr, "HTTP 403") || !strings.Contains(stderr, "token is invalid") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("403: exit %d, stderr %q", code, stderr)
	}
	if n := len(api.requests(http.MethodPatch)); n != 1 {
		t.Errorf("403 answered %d times, want 1 (not retried)", n)
	}
	noToken(t, out, stderr)
}

// parseSubmit runs `do submit` with args and captures the parsed options.
func parseSubmit(t *testing.T, args ...string) *doSubmitOptions {
	t.Helper()
	var got *doSubmitOptions
	g := &globalOptions{stdout: io.Discard, stderr: io.Discard}
	cmd := newDoSubmitCmd(&doOptions{globalOptions: g}, func(_ context.Context, o *doSubmitOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return got
}

// TestDoSubmitFlags checks the body the flags make: an absent field is
// omitted (the listing keeps its value), an empty one is sent to clear it.
func TestDoSubmitFlags(t *testing.T) {
	u, err := parseSubmit(t, "--app-id", "a", "--image-id", "7", "--reason", "", "disk.qcow2").update()
	if err != nil {
		t.Fatal(err)
	}
	if u.ImageID != 7 || u.ReasonForUpdate == nil || *u.ReasonForUpdate != "" || u.Version != nil || u.OSVersion != nil || u.SoftwareIncluded != nil {
		t.Errorf("update = %+v", u)
	}
	o := parseSubmit(t, "--app-id", "a", "--image-id", "7", "--manifest", "m.json", "disk.qcow2")
	if _, err := o.update(); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("--image-id with --manifest: %v", err)
	}
}

// TestDoAPITimeout: an endpoint that never answers ends the command with
// exit 3 instead of hanging it.
func TestDoAPITimeout(t *testing.T) {
	api := newFakeAPI(t)
	out, stderr, code := runCmd(t, "do", "image", "--api-timeout", "200ms", "--api-url", api.srv.URL, "777")
	if code != 3 || out != "" || !strings.Contains(stderr, "deadline exceeded") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}
