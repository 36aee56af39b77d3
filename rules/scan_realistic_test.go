package rules_test

import (
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// TestScanRealistic runs both profiles on the tree BenchmarkScan scans,
// clean and with pending security updates: exactly those updates are
// found, no rule reports ERROR, and the marketplace profile has nothing
// else to fail or warn about.
func TestScanRealistic(t *testing.T) {
	for _, pending := range []int{0, scanPending} {
		g := testGuest(t, fixtures.RealisticTree(fixtures.RealisticOptions{AptLists: true, Pending: pending}))
		for _, p := range []rules.Profile{rules.Marketplace, rules.ImgCheck} {
			sel, err := rules.Select(p, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkVerdict(t, rules.Run(t.Context(), g, sel, rules.Options{Profile: p}, nil), p, pending)
		}
	}
}
