package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeBucket is an in-process S3 server (gofakes3) holding bucket
// "audits", with the Spaces credentials the children use.
func fakeBucket(t *testing.T) (*s3mem.Backend, string, []string) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("audits"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	env := []string{"SPACES_KEY=TESTKEY", "SPACES_SECRET=TESTSECRET", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return backend, srv.URL, env
}

func putObject(t *testing.T, b *s3mem.Backend, key string, data []byte) {
	t.Helper()
	if _, err := b.PutObject("audits", key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
}

// resultObjects returns the per-image JSONL results under results/, by key.
func resultObjects(t *testing.T, b *s3mem.Backend) map[string]string {
	t.Helper()
	prefix := gofakes3.NewPrefix(nil, nil)
	list, err := b.ListBucket("audits", &prefix, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range list.Contents {
		if strings.HasPrefix(c.Key, "results/") && strings.HasSuffix(c.Key, ".jsonl") {
			obj, err := b.GetObject("audits", c.Key, nil)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			buf.ReadFrom(obj.Contents)
			obj.Contents.Close()
			out[c.Key] = buf.String()
		}
	}
	return out
}

// comparable maps each line of a JSONL result set by index, without what
// legitimately differs between runs: timings, the resume mark.
func comparableLines(t *testing.T, jsonl string) map[float64]string {
	t.Helper()
	out := map[float64]string{}
	for _, l := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %.200s", err, l)
		}
		delete(m, "stats")
		delete(m, "resumed")
		b, _ := json.Marshal(m)
		out[m["index"].(float64)] = string(b)
	}
	return out
}

// TestShardedJob simulates a Kubernetes Indexed Job on one machine: a
// list in object storage mixing local files, loopback-HTTP URLs and S3
// objects; n shard processes (children of the test binary, one through
// JOB_COMPLETION_INDEX) writing one result object per image into the
// bucket; then `report merge` of the prefix. The merged set equals one
// unsharded run, each image scanned by exactly one shard. Then results
// lost by a killed shard (their objects deleted) are redone by a rerun
// with --resume, which scans only those.
func TestShardedJob(t *testing.T) {
	backend, endpoint, env := fakeBucket(t)
	dir := t.TempDir()
	clean, leaky := gptImage(t, cleanTree()), gptImage(t, leakyTree())
	var list []string
	for i, src := range []string{clean, leaky, clean, leaky} {
		p := filepath.Join(dir, fmt.Sprintf("local-%d.raw", i))
		if err := os.Link(src, p); err != nil {
			t.Fatal(err)
		}
		list = append(list, p)
	}
	web := filepath.Join(dir, "web")
	os.Mkdir(web, 0o755)
	os.Link(clean, filepath.Join(web, "http-clean.raw"))
	os.Link(leaky, filepath.Join(web, "http-leaky.raw"))
	srv := httptest.NewServer(http.FileServer(http.Dir(web)))
	t.Cleanup(srv.Close)
	list = append(list, srv.URL+"/http-clean.raw", srv.URL+"/http-leaky.raw")
	for _, name := range []string{"s3-clean.raw", "s3-leaky.raw"} {
		src := map[string]string{"s3-clean.raw": clean, "s3-leaky.raw": leaky}[name]
		data, _ := os.ReadFile(src)
		putObject(t, backend, "images/"+name, data)
		list = append(list, "s3://audits/images/"+name)
	}
	putObject(t, backend, "list.txt", []byte("# audit list\n"+strings.Join(list, "\n")+"\n"))
	common := []string{"--s3-endpoint", endpoint, "scan", "-j", "2", "--from", "s3://audits/list.txt"}

	// One unsharded run.
	all := filepath.Join(dir, "all.jsonl")
	if r := runChild(t, env, append(common, "--format", "jsonl="+all)...); r.code != 1 {
		t.Fatalf("unsharded run: exit %d\n%s", r.code, r.stderr)
	}
	want, _ := os.ReadFile(all)

	// Three shards into the bucket; shard 2 finds itself through the
	// Indexed Job's environment.
	const n = 3
	scanned := 0
	for i := range n {
		args := append(slices.Clone(common), "--output-dir", "s3://audits/results/", "--format", "jsonl")
		extra := env
		if i == 2 {
			args = append(args, "--shard-count", "3")
			extra = append(slices.Clone(env), "JOB_COMPLETION_INDEX=2")
		} else {
			args = append(args, "--shard", fmt.Sprintf("%d/%d", i, n))
		}
		r := runChild(t, extra, args...)
		if r.code > 1 {
			t.Fatalf("shard %d: exit %d\n%s", i, r.code, r.stderr)
		}
		var images int
		if m := regexp.MustCompile(`(?m)^(\d+) images: `).FindStringSubmatch(r.stdout); !strings.HasPrefix(r.stdout, "IMAGE") || m == nil {
			t.Errorf("shard %d stdout is not the summary table:\n%s", i, r.stdout)
		} else {
			images, _ = strconv.Atoi(m[1])
		}
		scanned += images
	}
	if scanned != len(list) {
		t.Errorf("the shards scanned %d images of %d: each belongs to exactly one", scanned, len(list))
	}
	objects := resultObjects(t, backend)
	if len(objects) != len(list) {
		t.Fatalf("%d result objects for %d images: %v", len(objects), len(list), slices.Collect(maps.Keys(objects)))
	}
	merged := filepath.Join(dir, "merged.jsonl")
	if _, stderr, code := runCmd(t, "--s3-endpoint", endpoint, "report", "merge", "s3://audits/results/", "-o", merged); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(merged)
	g, w := comparableLines(t, string(got)), comparableLines(t, string(want))
	if len(g) != len(list) || !maps.Equal(g, w) {
		for i, l := range w {
			if g[i] != l {
				t.Errorf("index %v differs:\n merged:    %.300s\n unsharded: %.300s", i, g[i], l)
			}
		}
		t.Fatalf("merged set (%d) differs from the unsharded run (%d)", len(g), len(w))
	}
	// Merging a shard's results twice is refused, naming the image.
	if _, stderr, code := runCmd(t, "--s3-endpoint", endpoint, "report", "merge", merged, all); code == 0 || !strings.Contains(stderr, "appears twice") {
		t.Errorf("duplicate merge: exit %d, %s", code, stderr)
	}

	// A shard dies before writing two of its results; the rerun with
	// --resume scans those two only.
	var lost []string
	for key := range objects {
		if len(lost) < 2 {
			lost = append(lost, key)
			if _, err := backend.DeleteObject("audits", key); err != nil {
				t.Fatal(err)
			}
		}
	}
	rerun := filepath.Join(dir, "rerun.jsonl")
	r := runChild(t, env, append(common, "--output-dir", "s3://audits/results/", "--resume", "--format", "jsonl="+rerun)...)
	if r.code > 1 {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	data, _ := os.ReadFile(rerun)
	var resumed, fresh int
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.Contains(l, `"resumed":true`) {
			resumed++
		} else {
			fresh++
		}
	}
	if fresh != len(lost) || resumed != len(list)-len(lost) {
		t.Errorf("--resume scanned %d and carried over %d; want %d scanned (the lost ones) and %d carried over", fresh, resumed, len(lost), len(list)-len(lost))
	}
	if got := resultObjects(t, backend); len(got) != len(list) {
		t.Errorf("after --resume %d result objects, want %d", len(got), len(list))
	}
}
