// Package kubernetes checks the example manifests with the Kubernetes API
// types: every document decodes strictly (an unknown or misspelt field is
// an error) and the Job runs imgcheck the way the README says.
package kubernetes

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// readJob decodes one Job manifest strictly.
func readJob(t *testing.T, name string) *batchv1.Job {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(data, &job); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Fatalf("%s: %s %s, want batch/v1 Job", name, job.APIVersion, job.Kind)
	}
	return &job
}

func TestIndexedJob(t *testing.T) {
	job := readJob(t, "job.yaml")
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode is not Indexed: pods would get no JOB_COMPLETION_INDEX")
	}
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Parallelism > *spec.Completions {
		t.Fatalf("completions %v, parallelism %v", spec.Completions, spec.Parallelism)
	}
	pod := spec.Template.Spec
	if pod.RestartPolicy != "Never" && pod.RestartPolicy != "OnFailure" {
		t.Errorf("restartPolicy %q is not allowed in a Job", pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !strings.HasPrefix(c.Image, "ghcr.io/imgcheck/imgcheck") {
		t.Errorf("image %q", c.Image)
	}
	args := strings.Join(c.Args, " ")
	want := "--shard-count=" + strconv.Itoa(int(*spec.Completions))
	for _, a := range []string{"scan", want, "--from=s3://", "--output-dir=s3://", "--format=jsonl", "--resume"} {
		if !strings.Contains(args, a) {
			t.Errorf("args %q lack %q (the shard count must equal completions)", args, a)
		}
	}
	if !slices.ContainsFunc(c.EnvFrom, func(e corev1.EnvFromSource) bool { return e.SecretRef != nil && e.SecretRef.Name != "" }) {
		t.Errorf("the Spaces credentials do not come from a Secret")
	}
}

func TestMergeJob(t *testing.T) {
	job := readJob(t, "merge.yaml")
	c := job.Spec.Template.Spec.Containers[0]
	script := strings.Join(append(slices.Clone(c.Command), c.Args...), " ")
	for _, want := range []string{"report merge s3://audits/results/", "report html"} {
		if !strings.Contains(script, want) {
			t.Errorf("merge step %q lacks %q", script, want)
		}
	}
}

// TestStrict proves the decoding is strict: a misspelt field fails.
func TestStrict(t *testing.T) {
	data, _ := os.ReadFile("job.yaml")
	bad := bytes.Replace(data, []byte("completionMode:"), []byte("completionMod:"), 1)
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(bad, &job); err == nil {
		t.Error("a misspelt field decoded without error")
	}
}
