package rules

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/imgcheck/imgcheck/rules/facts"
)

// Profile selects which rules run and how they word their findings (RULES.md §2).
type Profile string

// Profiles.
const (
	Marketplace Profile = "marketplace"
	ImgCheck    Profile = "img_check"
)

// Rule is one check of the catalogue. Rules are registered from init
// functions in the files named after catalogue sections, and never change
// afterwards.
type Rule struct {
	ID       string
	Title    string       // one line, used as help text in SARIF and README
	Profiles []Profile    // profiles the rule runs in
	Family   facts.Family // Any, Deb or RPM; other families get SKIP not-applicable
	// Needs names the guest paths (absolute, glob allowed) and facts
	// ("fact:packages", "fact:sshd", ...) the rule reads. It documents the
	// rule's inputs and lets tests prove it reads nothing else.
	Needs []string
	// Off marks opt-in rules, enabled only with --enable-rule.
	Off bool
	// Check makes the decision. It never returns zero findings.
	Check func(in *Input) []Finding
}

// InProfile reports whether r runs in profile p.
func (r Rule) InProfile(p Profile) bool { return slices.Contains(r.Profiles, p) }

var (
	registry = map[string]Rule{}
	validID  = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9-]+)+$`)
)

// Register adds a rule to the catalogue. It must be called from init only,
// and panics on a malformed, unknown or duplicate ID, like database/sql.Register.
func Register(r Rule) {
	if !validID.MatchString(r.ID) {
		panic(fmt.Sprintf("rules: malformed rule ID %q", r.ID))
	}
	if !slices.Contains(catalogue, r.ID) {
		panic(fmt.Sprintf("rules: rule %q is not in the catalogue order list", r.ID))
	}
	if _, dup := registry[r.ID]; dup {
		panic(fmt.Sprintf("rules: rule %q registered twice", r.ID))
	}
	if r.Check == nil || len(r.Profiles) == 0 {
		panic(fmt.Sprintf("rules: rule %q has no Check or no profile", r.ID))
	}
	registry[r.ID] = r
}

// All returns every registered rule in catalogue order.
func All() []Rule {
	out := make([]Rule, 0, len(registry))
	for _, id := range catalogue {
		if r, ok := registry[id]; ok {
			out = append(out, r)
		}
	}
	return out
}

// Lookup returns the registered rule with the given ID.
func Lookup(id string) (Rule, bool) {
	r, ok := registry[id]
	return r, ok
}

// Select returns the rules of profile p in catalogue order: the default-on
// rules plus those named in enable, minus those named in disable.
// Unknown IDs are an error.
func Select(p Profile, enable, disable []string) ([]Rule, error) {
	for _, id := range append(slices.Clone(enable), disable...) {
		if _, ok := registry[id]; !ok {
			return nil, fmt.Errorf("unknown rule %q (see 'imgcheck rules')", id)
		}
	}
	var out []Rule
	for _, r := range All() {
		if !r.InProfile(p) || slices.Contains(disable, r.ID) {
			continue
		}
		if r.Off && !slices.Contains(enable, r.ID) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
