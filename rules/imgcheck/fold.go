package imgcheck

import (
	"fmt"

	"github.com/imgcheck/imgcheck/rules"
)

// FoldedSubject is the subject of a finding that stands for findings of
// its rule not listed; its count evidence says how many, and Counts adds
// them.
const FoldedSubject = "(more)"

// fold keeps the first rules.MaxFindingsPerRule-1 findings of a check
// and folds the rest into one finding per level (and silent or not), so
// that a hostile image (150,000 rotated logs) prints a bounded number of
// lines while the script's counters stay what they would be.
func fold(id string, found []rules.Finding) []rules.Finding {
	const max = rules.MaxFindingsPerRule
	if len(found) <= max {
		return found
	}
	kept, rest := found[:max-1:max-1], found[max-1:]
	type group struct {
		level  rules.Level
		silent bool
	}
	n := map[group]int{}
	var order []group
	for _, f := range rest {
		g := group{f.Level, Silent(f)}
		if n[g] == 0 {
			order = append(order, g)
		}
		n[g]++
	}
	for _, g := range order {
		ev := []rules.KV{{Key: rules.KeyCount, Value: fmt.Sprint(n[g])}}
		if g.silent {
			ev = append(ev, rules.KV{Key: KeyParity, Value: ParityNoLine})
		}
		kept = append(kept, rules.Finding{
			Rule: id, Level: g.level, Subject: FoldedSubject, Evidence: ev,
			Message: fmt.Sprintf("%d more %s findings of this rule are not listed (at most %d per rule)", n[g], g.level.Tag(), max),
		})
	}
	return kept
}

// weight is how many of the script's lines f stands for: its count for a
// folded finding, else 1.
func weight(f rules.Finding) int {
	if f.Subject != FoldedSubject {
		return 1
	}
	var n int
	fmt.Sscan(f.Get(rules.KeyCount), &n)
	return n
}
