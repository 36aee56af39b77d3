package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestShardAssignment: every image belongs to exactly one shard, decided
// by its name alone (the same whatever the order of the list), and the
// shards share the work.
func TestShardAssignment(t *testing.T) {
	var names []string
	for i := range 1000 {
		names = append(names, fmt.Sprintf("s3://builds/app-%d.qcow2", i))
	}
	const n = 7
	owner := map[string]int{}
	sizes := make([]int, n)
	for i := range n {
		for _, name := range names {
			if (shard{i, n}).owns(name) {
				if prev, dup := owner[name]; dup {
					t.Fatalf("%s in shards %d and %d", name, prev, i)
				}
				owner[name] = i
				sizes[i]++
			}
		}
	}
	if len(owner) != len(names) {
		t.Fatalf("%d of %d images have a shard", len(owner), len(names))
	}
	for i, s := range sizes {
		if s < 100 || s > 190 { // 1000/7 ≈ 143
			t.Errorf("shard %d has %d images: %v", i, s, sizes)
		}
	}
	if !(shard{}).owns("anything") || !(shard{0, 1}).owns("anything") {
		t.Errorf("an unsharded run must scan everything")
	}
}

func TestShardFlags(t *testing.T) {
	t.Setenv("IMGCHECK_SHARD_COUNT", "")
	for _, tc := range []struct {
		shard string
		count int
		env   map[string]string
		want  shard
		err   string
	}{
		{shard: "3/16", want: shard{3, 16}},
		{shard: "0/1", want: shard{0, 1}},
		{shard: "16/16", err: "0 <= i < n"},
		{shard: "-1/4", err: "0 <= i < n"},
		{shard: "x", err: "want i/n"},
		{count: 4, env: map[string]string{"JOB_COMPLETION_INDEX": "2"}, want: shard{2, 4}},
		{env: map[string]string{"JOB_COMPLETION_INDEX": "1", "IMGCHECK_SHARD_COUNT": "3"}, want: shard{1, 3}},
		{env: map[string]string{"JOB_COMPLETION_INDEX": "5"}, want: shard{}}, // no count: the whole list
		{count: 4, err: "needs JOB_COMPLETION_INDEX"},
		{count: 4, env: map[string]string{"JOB_COMPLETION_INDEX": "4"}, err: "0 <= i < n"},
		{shard: "1/2", count: 2, err: "not both"},
	} {
		t.Run(fmt.Sprintf("%s-%d-%v", tc.shard, tc.count, tc.env), func(t *testing.T) {
			os.Unsetenv("JOB_COMPLETION_INDEX")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := (&scanOptions{shard: tc.shard, shardCount: tc.count}).shardFor()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("shard %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestFromStdin: `--from -` reads the list from stdin; the shards of a
// list read that way still cover it once.
func TestFromStdin(t *testing.T) {
	clean, leaky := gptImage(t, cleanTree()), gptImage(t, leakyTree())
	dir := t.TempDir()
	var list []string
	for i := range 6 {
		p := filepath.Join(dir, fmt.Sprintf("img-%d.raw", i))
		os.Link([]string{clean, leaky}[i%2], p)
		list = append(list, p)
	}
	var seen []string
	for i := range 2 {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "scan", "--from", "-", "--shard", fmt.Sprintf("%d/2", i), "--format", "jsonl")
		cmd.Env = append(os.Environ(), "IMGCHECK_TEST_CHILD=1")
		cmd.Stdin = strings.NewReader("# from a pipe\n" + strings.Join(list, "\n") + "\n")
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
			t.Fatalf("shard %d: %v", i, err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l == "" {
				continue
			}
			path := l[strings.Index(l, `"path":"`)+8:]
			seen = append(seen, path[:strings.IndexByte(path, '"')])
		}
	}
	slices.Sort(seen)
	if !slices.Equal(seen, list) {
		t.Errorf("the shards of a list from stdin scanned %v, want %v", seen, list)
	}
}

// TestKilledShardResumes kills a shard while one of its images hangs,
// after it has written the results of the others; the rerun with
// --resume carries those over and scans only the rest.
func TestKilledShardResumes(t *testing.T) {
	clean, leaky := gptImage(t, cleanTree()), gptImage(t, leakyTree())
	dir := t.TempDir()
	var list []string
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("img-%d.raw", i))
		os.Link([]string{clean, leaky}[i%2], p)
		list = append(list, p)
	}
	stalled, release := hangingImage(t)
	list = append(list, stalled)
	listFile := filepath.Join(dir, "list.txt")
	os.WriteFile(listFile, []byte(strings.Join(list, "\n")), 0o644)
	results := filepath.Join(dir, "results")
	args := []string{"scan", "-j", "1", "--from", listFile, "--output-dir", results, "--format", "jsonl"}

	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "IMGCHECK_TEST_CHILD=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		done, _ := filepath.Glob(filepath.Join(results, "*.jsonl"))
		if len(done) == 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the shard wrote %v and no more", done)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill() // the node goes away while the stalled image hangs
	cmd.Wait()
	release()

	rerun := filepath.Join(dir, "rerun.jsonl")
	r := runChild(t, nil, append(args, "--resume", "--format", "jsonl="+rerun)...)
	if r.code > 3 {
		t.Fatalf("rerun: exit %d: %s", r.code, r.stderr)
	}
	data, _ := os.ReadFile(rerun)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var fresh []string
	for _, l := range lines {
		if !strings.Contains(l, `"resumed":true`) {
			fresh = append(fresh, l[strings.Index(l, `"path":"`)+8:][:len(stalled)])
		}
	}
	if len(lines) != 4 || !slices.Equal(fresh, []string{stalled}) {
		t.Errorf("the rerun has %d lines and scanned %v; want 4 lines and only %s scanned", len(lines), fresh, stalled)
	}
	if done, _ := filepath.Glob(filepath.Join(results, "*.jsonl")); len(done) != 4 {
		t.Errorf("after the rerun %d results, want 4", len(done))
	}
}
