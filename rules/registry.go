package rules

import (
	"fmt"
	"slices"

	"github.com/imgcheck/imgcheck/rules/facts"
)

// Profile selects which rules run and how they word their findings.
type Profile string

// Profiles.
const (
	Marketplace Profile = "marketplace"
	ImgCheck    Profile = "img_check"
)

// Rule is one check of a profile. Rules are registered from init
// functions, in the order they run, and never change afterwards.
type Rule struct {
	ID    string
	Title string // one line, used as help text in SARIF and README
	// Profiles lists the profiles the rule's ID is registered in; the
	// registry fills it.
	Profiles []Profile
	Family   facts.Family // Any, Deb or RPM; other families get SKIP not-applicable
	// Off marks opt-in rules, enabled only with --enable-rule.
	Off bool
	// Uncapped keeps every finding (MaxFindingsPerRule does not apply):
	// the img_check profile's counters must be the script's.
	Uncapped bool
	// Check makes the decision. It never returns zero findings.
	Check func(in *Input) []Finding
}

// InProfile reports whether r runs in profile p.
func (r Rule) InProfile(p Profile) bool { return slices.Contains(r.Profiles, p) }

// profiles are the known profiles, in the order Rule.Profiles lists them.
var profiles = []Profile{Marketplace, ImgCheck}

// ruleKey names one registration: a rule ID may be registered once per profile.
type ruleKey struct {
	profile Profile
	id      string
}

var (
	registry = make(map[ruleKey]Rule, 128) // both profiles' rules (about 120) without regrowing at start-up
	order    = map[Profile][]string{}      // IDs per profile, in registration order
)

// validID reports whether id is a word of [a-z0-9] followed by one or
// more dot-separated words of [a-z0-9-], as "ssh.root-login": the rule IDs
// of the catalogue. It is a loop rather than a regular expression because
// every registration at start-up checks it.
func validID(id string) bool {
	words, wordLen := 1, 0
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == '.':
			if wordLen == 0 {
				return false
			}
			words, wordLen = words+1, 0
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' && words > 1:
			wordLen++
		default:
			return false
		}
	}
	return words >= 2 && wordLen > 0
}

// Register adds r to profile p's rules, after those registered before it:
// registration order is the order rules run and are reported in. It must
// be called from init only, and panics on a malformed or duplicate ID or an
// unknown profile, like database/sql.Register.
func Register(p Profile, r Rule) {
	if !validID(r.ID) {
		panic(fmt.Sprintf("rules: malformed rule ID %q", r.ID))
	}
	if !slices.Contains(profiles, p) {
		panic(fmt.Sprintf("rules: rule %q registered in unknown profile %q", r.ID, p))
	}
	k := ruleKey{p, r.ID}
	if _, dup := registry[k]; dup {
		panic(fmt.Sprintf("rules: rule %q registered twice in profile %s", r.ID, p))
	}
	if r.Check == nil {
		panic(fmt.Sprintf("rules: rule %q has no Check", r.ID))
	}
	registry[k] = r
	order[p] = append(order[p], r.ID)
}

// withProfiles returns r with Profiles listing every profile its ID is
// registered in.
func withProfiles(r Rule) Rule {
	r.Profiles = nil
	for _, p := range profiles {
		if _, ok := registry[ruleKey{p, r.ID}]; ok {
			r.Profiles = append(r.Profiles, p)
		}
	}
	return r
}

// All returns one rule per ID in catalogue order: the profiles' orders
// merged, each profile's own rules placed before the first shared rule
// that follows them.
func All() []Rule {
	var ids []string
	for _, p := range profiles {
		ids = merge(ids, order[p])
	}
	out := make([]Rule, 0, len(ids))
	for _, id := range ids {
		r, _ := Lookup(id)
		out = append(out, r)
	}
	return out
}

// merge returns a with the IDs of b that a lacks, each placed before the
// next ID the two share.
func merge(a, b []string) []string {
	var out []string
	next := 0 // the first ID of b not placed yet
	placeUpTo := func(k int) {
		for ; next < k; next++ {
			if !slices.Contains(a, b[next]) {
				out = append(out, b[next])
			}
		}
	}
	for _, id := range a {
		if k := slices.Index(b, id); k >= next {
			placeUpTo(k)
			next = k + 1
		}
		out = append(out, id)
	}
	placeUpTo(len(b))
	return out
}

// Lookup returns the rule registered under id, as the first profile that
// registers it defines it.
func Lookup(id string) (Rule, bool) {
	for _, p := range profiles {
		if r, ok := registry[ruleKey{p, id}]; ok {
			return withProfiles(r), true
		}
	}
	return Rule{}, false
}

// Select returns the rules of profile p in registration order: the
// default-on rules plus those named in enable, minus those named in
// disable. Unknown IDs are an error.
func Select(p Profile, enable, disable []string) ([]Rule, error) {
	for _, id := range append(slices.Clone(enable), disable...) {
		if _, ok := Lookup(id); !ok {
			return nil, fmt.Errorf("unknown rule %q (see 'imgcheck rules')", id)
		}
	}
	var out []Rule
	for _, id := range order[p] {
		r := registry[ruleKey{p, id}]
		if slices.Contains(disable, id) || (r.Off && !slices.Contains(enable, id)) {
			continue
		}
		out = append(out, withProfiles(r))
	}
	return out, nil
}
