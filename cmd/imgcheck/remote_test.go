package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/fixtures"
)

// serveImage serves the file at path over loopback HTTP with
// http.ServeContent (Range, ETag) and returns its URL, with a presigned
// style query string that must never be printed, and a count of the
// requests.
func serveImage(t testing.TB, path string) (string, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, "gone", http.StatusNotFound)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, st.ModTime().UnixNano()))
		http.ServeContent(w, r, filepath.Base(path), st.ModTime(), f)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/builds/" + filepath.Base(path) + "?X-Amz-Signature=SIGSECRET", &requests
}

// redactedURL is how reports name a URL from serveImage.
var redactedURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/builds/([^ "?]+)\?…`)

// sameScan runs args on the local image and on its URL, and checks that
// outputs and exit codes agree once the names are made equal, and that
// the URL's signature is printed nowhere.
func sameScan(t *testing.T, local, url string, args ...string) string {
	t.Helper()
	lout, _, lcode := runCmd(t, append(args, local)...)
	rout, rerr, rcode := runCmd(t, append(args, url)...)
	if strings.Contains(rout+rerr, "SIGSECRET") {
		t.Errorf("%v: the URL's signature is printed:\n%s%s", args, rout, rerr)
	}
	rout = redactedURL.ReplaceAllString(rout, "IMAGE")
	lout = strings.ReplaceAll(lout, local, "IMAGE")
	if rcode != lcode || normalize(rout, nil) != normalize(lout, nil) {
		t.Errorf("%v over HTTP: exit %d, want %d as for the local file; output %s\nstderr %s", args, rcode, lcode, firstDiff(normalize(rout, nil), normalize(lout, nil)), rerr)
	}
	return rout
}

// TestScanURL scans raw and qcow2 images over HTTP: the reports are those
// of the same files scanned locally.
func TestScanURL(t *testing.T) {
	leaky := gptImage(t, leakyTree())
	qcow := fixtures.MustQCOW2(t, leaky, fixtures.QCOW2Options{Compress: true})
	for name, path := range map[string]string{"raw": leaky, "qcow2": qcow} {
		t.Run(name, func(t *testing.T) {
			url, _ := serveImage(t, path)
			out := sameScan(t, path, url, "scan", "--color", "never")
			if !strings.Contains(out, "FAIL") {
				t.Errorf("no FAIL in the leaky image's report:\n%s", out)
			}
			sameScan(t, path, url, "scan", "--format", "json", "--hash=false")
			for _, needle := range secretNeedles {
				if strings.Contains(out, needle) {
					t.Errorf("secret %q printed", needle)
				}
			}
		})
	}
}

// TestVerbsURL runs info, ls and cat on a URL.
func TestVerbsURL(t *testing.T) {
	clean := gptImage(t, cleanTree())
	url, _ := serveImage(t, clean)
	sameScan(t, clean, url, "info")
	for _, args := range [][]string{{"ls", "-R"}, {"cat"}} {
		guest := "/etc"
		if args[0] == "cat" {
			guest = "/etc/os-release"
		}
		lout, _, lcode := runCmd(t, append(args, clean, guest)...)
		rout, rerr, rcode := runCmd(t, append(args, url, guest)...)
		if rout != lout || rcode != lcode || lcode != 0 {
			t.Errorf("%v over HTTP: exit %d (local %d), stderr %q, output %s", args, rcode, lcode, rerr, firstDiff(rout, lout))
		}
	}
}

// TestScanURLStats checks the --stats line of a remote scan, and that it
// agrees with the requests the server saw.
func TestScanURLStats(t *testing.T) {
	path := gptImage(t, cleanTree())
	url, requests := serveImage(t, path)
	_, stderr, code := runCmd(t, "scan", "--stats", url)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`, (\d+) requests, (\d+) bytes transferred \(([\d.]+)% of the (\d+)-byte object\)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no traffic in --stats: %q", stderr)
	}
	st, _ := os.Stat(path)
	if m[1] != strconv.FormatInt(requests.Load(), 10) || m[4] != strconv.FormatInt(st.Size(), 10) {
		t.Errorf("stats %q: server saw %d requests, object is %d bytes", m[0], requests.Load(), st.Size())
	}
	js, _, _ := runCmd(t, "scan", "--stats", "--format", "json", url)
	validateJSON(t, schema(t, "../../rules/report/schema/report.schema.json"), []byte(js))
	for _, want := range []string{`"requests": `, `"bytes_transferred": `, `"object_size": ` + strconv.FormatInt(st.Size(), 10)} {
		if !strings.Contains(js, want) {
			t.Errorf("JSON stats lack %s", want)
		}
	}
}

// TestScanURLCompressed checks that a compressed upload at a URL is
// refused with a pointer to --download, and scanned like the local file
// with it.
func TestScanURLCompressed(t *testing.T) {
	path := fixtures.MustGzip(t, gptImage(t, leakyTree()), "gzip")
	url, _ := serveImage(t, path)
	out, stderr, code := runCmd(t, "scan", url)
	if code != 3 || !strings.Contains(out+stderr, "--download") || !strings.Contains(out+stderr, "cannot be read at random") {
		t.Errorf("compressed URL without --download: exit %d, output %q %q", code, out, stderr)
	}
	sameScan(t, path, url, "scan", "--color", "never", "--download", "--tmpdir", t.TempDir())
}

// TestScanS3 scans s3://bucket/key from an in-process S3 server, with the
// endpoint and region flags and keys from SPACES_KEY/SPACES_SECRET, and a
// batch from --from mixing a local path, a URL and the s3:// object.
func TestScanS3(t *testing.T) {
	path := gptImage(t, leakyTree())
	backend := s3mem.New()
	if err := backend.CreateBucket("builds"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backend.PutObject("builds", "app/leaky.img", map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("SPACES_KEY", "TESTKEY")
	t.Setenv("SPACES_SECRET", "SPACESSECRET")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")

	lout, _, lcode := runCmd(t, "scan", "--color", "never", path)
	out, stderr, code := runCmd(t, "scan", "--color", "never", "--s3-endpoint", srv.URL, "--s3-region", "nyc3", "s3://builds/app/leaky.img")
	if code != lcode || normalize(strings.ReplaceAll(out, "s3://builds/app/leaky.img", "IMAGE"), nil) != normalize(strings.ReplaceAll(lout, path, "IMAGE"), nil) {
		t.Errorf("s3 scan: exit %d (local %d), stderr %q, %s", code, lcode, stderr, firstDiff(out, lout))
	}
	if strings.Contains(out+stderr, "SPACESSECRET") {
		t.Error("the Spaces secret is printed")
	}
	_, stderr, code = runCmd(t, "scan", "--s3-endpoint", srv.URL, "s3://builds/missing.img")
	if code != 3 || !strings.Contains(stderr, "404") {
		t.Errorf("missing object: exit %d, stderr %q", code, stderr)
	}

	url, _ := serveImage(t, path)
	list := filepath.Join(t.TempDir(), "urls.txt")
	if err := os.WriteFile(list, []byte(path+"\n"+url+"\ns3://builds/app/leaky.img\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = runCmd(t, "scan", "-j", "3", "--s3-endpoint", srv.URL, "--from", list)
	if code != 1 || strings.Count(out, "FAIL") < 3 || strings.Contains(out+stderr, "SIGSECRET") {
		t.Errorf("batch: exit %d, stderr %q, output:\n%s", code, stderr, out)
	}
}

// TestScanURLRangeIgnored serves the image whole whatever the Range: the
// scan is refused with a pointer to --download, and with it the image is
// downloaded once and scanned like the local file.
func TestScanURLRangeIgnored(t *testing.T) {
	path := gptImage(t, cleanTree())
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Open's tail probe (a suffix range sent beside the first
		// request) is refused with it and not counted.
		if !strings.HasPrefix(r.Header.Get("Range"), "bytes=-") {
			requests.Add(1)
		}
		http.ServeFile(w, &http.Request{Method: r.Method, URL: r.URL, Header: http.Header{}}, path)
	}))
	t.Cleanup(srv.Close)
	url := srv.URL + "/clean.img"
	_, stderr, code := runCmd(t, "scan", url)
	if code != 3 || !strings.Contains(stderr, "ignores range requests") || !strings.Contains(stderr, "--download") {
		t.Errorf("without --download: exit %d, stderr %q", code, stderr)
	}
	if requests.Load() != 1 {
		t.Errorf("%d requests for a refusal, want 1", requests.Load())
	}
	requests.Store(0)
	lout, _, lcode := runCmd(t, "scan", "--color", "never", path)
	out, stderr, code := runCmd(t, "scan", "--color", "never", "--download", "--tmpdir", t.TempDir(), url)
	// The container chain says the raw disk was downloaded.
	lout = strings.Replace(lout, "Disk:    raw,", "Disk:    raw (downloaded),", 1)
	out, lout = normalize(strings.ReplaceAll(out, url, "IMAGE"), nil), normalize(strings.ReplaceAll(lout, path, "IMAGE"), nil)
	if code != lcode || out != lout {
		t.Errorf("with --download: exit %d (local %d), stderr %q, %s", code, lcode, stderr, firstDiff(out, lout))
	}
	if requests.Load() != 2 {
		t.Errorf("%d requests with --download, want 2 (the refused range request, then one GET)", requests.Load())
	}
}

// TestDiffURL: diff reads an image at a URL like a local one, and prints
// the URL without its query string.
func TestDiffURL(t *testing.T) {
	a, b := gptImage(t, cleanTree()), gptImage(t, leakyTree())
	url, _ := serveImage(t, b)
	local, _, code := runCmd(t, "diff", a, b)
	if code != 1 {
		t.Fatalf("local diff: exit %d, want 1 (new FAILs)", code)
	}
	remote, stderr, code := runCmd(t, "diff", a, url)
	if code != 1 {
		t.Fatalf("diff with a URL: exit %d: %s", code, stderr)
	}
	body := func(s string) string { _, after, _ := strings.Cut(s, "\n\n"); return after }
	if body(local) == "" || body(local) != body(remote) {
		t.Errorf("diff differs between the local file and its URL:\n%s\n---\n%s", local, remote)
	}
	_, query, _ := strings.Cut(url, "?")
	if query == "" || strings.Contains(remote, query) || !strings.Contains(remote, "+++ "+imgcheck.DisplayName(url)) {
		t.Errorf("URL not printed redacted:\n%s", remote)
	}
}
