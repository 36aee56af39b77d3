package imgcheck_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
)

// sha512Hash is a usable crypt(3) hash.
const sha512Hash = "$6$Zq3xH1bN$Kk0lZ7uLq3sP0mYkq8dWmH2vXo1Qz5aN7bT9eR4cU6yI2oP8sD3fG5hJ7kL9zX1cV3bN5mQ7wE9rT1yU3iO5p."

// testGuest returns a guest over tree held in memory.
func testGuest(t *testing.T, tree fstest.MapFS) *fsinspect.Guest {
	t.Helper()
	return fsinspect.NewGuest(tree)
}

// runRule runs the img_check rule id alone on g with options o.
func runRule(t *testing.T, g *fsinspect.Guest, id string, o rules.Options) []rules.Finding {
	t.Helper()
	sel, err := rules.Select(o.Profile, []string{id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(sel, func(r rules.Rule) bool { return r.ID == id })
	if i < 0 {
		t.Fatalf("rule %q is not registered in profile %s", id, o.Profile)
	}
	res := rules.Run(t.Context(), g, sel[i:i+1], o, nil)
	if len(res) != 1 {
		t.Fatalf("rule %s: %d results, want 1", id, len(res))
	}
	return res[0].Findings
}

// noSecret fails when any text of fs holds one of secrets.
func noSecret(t *testing.T, fs []rules.Finding, secrets ...string) {
	t.Helper()
	for _, f := range fs {
		texts := []string{f.Message, f.Subject, f.Fix, f.SkipReason}
		for _, kv := range f.Evidence {
			texts = append(texts, kv.Key, kv.Value)
		}
		for _, s := range secrets {
			for _, text := range texts {
				if strings.Contains(text, s) {
					t.Errorf("secret %.12q… leaked in finding %+v", s, f)
				}
			}
		}
	}
}
