package tools

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestActionMetadata: action.yml is a composite action whose one step
// passes every input to scripts/action.sh and exposes its outputs.
func TestActionMetadata(t *testing.T) {
	var action struct {
		Inputs  map[string]struct{ Default string }
		Outputs map[string]struct{ Value string }
		Runs    struct {
			Using string
			Steps []struct {
				ID  string
				Run string
				Env map[string]string
			}
		}
	}
	readYAML(t, "action.yml", &action)
	if action.Runs.Using != "composite" || len(action.Runs.Steps) != 1 {
		t.Fatalf("runs = %+v; want one composite step", action.Runs)
	}
	step := action.Runs.Steps[0]
	if !strings.Contains(step.Run, "scripts/action.sh") {
		t.Errorf("the step runs %q, not scripts/action.sh", step.Run)
	}
	for _, in := range []string{"images", "profile", "fail-on", "format", "sarif", "version"} {
		if _, ok := action.Inputs[in]; !ok {
			t.Errorf("no input %q", in)
		}
		env := "IMGCHECK_" + strings.ToUpper(strings.ReplaceAll(in, "-", "_"))
		if step.Env[env] != "${{ inputs."+in+" }}" {
			t.Errorf("input %q is not passed as %s: %q", in, env, step.Env[env])
		}
	}
	for _, out := range []string{"verdict", "exit-code", "json", "sarif"} {
		if action.Outputs[out].Value != "${{ steps."+step.ID+".outputs."+out+" }}" {
			t.Errorf("output %q = %q", out, action.Outputs[out].Value)
		}
	}
}

// TestWorkflowExample: the example workflow uses the Action on the image
// its own build step made, declares the permissions upload-sarif needs,
// and uploads SARIF with upload-sarif v4 under a per-image category.
func TestWorkflowExample(t *testing.T) {
	type step struct {
		ID   string
		Uses string
		With map[string]string
	}
	var wf struct {
		Permissions map[string]string
		Jobs        map[string]struct{ Steps []step }
	}
	readYAML(t, "docs/examples/imgcheck-github-actions.yml", &wf)
	want := map[string]string{"contents": "read", "security-events": "write", "actions": "read"}
	if len(wf.Permissions) != len(want) {
		t.Errorf("permissions = %v, want %v", wf.Permissions, want)
	}
	for k, v := range want {
		if wf.Permissions[k] != v {
			t.Errorf("permissions.%s = %q, want %q", k, wf.Permissions[k], v)
		}
	}
	steps := wf.Jobs["scan"].Steps
	scan := slices.IndexFunc(steps, func(s step) bool { return strings.HasPrefix(s.Uses, "imgcheck/imgcheck@") })
	upload := slices.IndexFunc(steps, func(s step) bool { return strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@") })
	if scan < 0 || upload < scan {
		t.Fatalf("steps %+v: want the imgcheck Action, then upload-sarif", steps)
	}
	if !strings.HasPrefix(steps[scan].With["images"], "${{ steps.build.outputs.") {
		t.Errorf("the Action scans %q, not the image the build step made", steps[scan].With["images"])
	}
	u := steps[upload]
	if u.Uses != "github/codeql-action/upload-sarif@v4" || !strings.Contains(u.With["category"], "matrix.image") ||
		u.With["sarif_file"] != "${{ steps."+steps[scan].ID+".outputs.sarif }}" {
		t.Errorf("upload-sarif step = %+v; want v4, the Action's SARIF output and a per-image category", u)
	}
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
