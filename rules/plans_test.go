package rules_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imgcheck/imgcheck/rules"
)

// TestBuiltinCatalogue checks the shipped sizes.json: dated, sourced, and
// every size complete and listed once.
func TestBuiltinCatalogue(t *testing.T) {
	c := rules.BuiltinCatalogue()
	if _, err := time.Parse(time.DateOnly, c.Taken); err != nil {
		t.Errorf("taken %q: %v", c.Taken, err)
	}
	if !strings.Contains(c.Source, "/v2/sizes") {
		t.Errorf("source %q does not name the sizes API", c.Source)
	}
	if len(c.Sizes) < 100 {
		t.Errorf("%d sizes: the catalogue is incomplete", len(c.Sizes))
	}
	seen := map[string]bool{}
	kinds := map[string]bool{}
	for _, p := range c.Sizes {
		if seen[p.Slug] {
			t.Errorf("%s listed twice", p.Slug)
		}
		seen[p.Slug] = true
		if p.VCPUs <= 0 || p.MemoryMiB <= 0 || p.DiskGB <= 0 || p.PriceUSD <= 0 || p.Description == "" {
			t.Errorf("incomplete size %+v", p)
		}
		kinds[strings.Fields(p.Description)[0]] = true
	}
	for _, k := range []string{"Basic", "General", "CPU-Optimized", "Memory-Optimized", "Storage-Optimized", "Premium"} {
		if !kinds[k] {
			t.Errorf("no %s sizes", k)
		}
	}
	if _, err := rules.ParseCatalogue([]byte(`{"taken":"2026-01-01","sizes":[{"slug":"x","disk":0}]}`)); err == nil {
		t.Error("a size without a disk was accepted")
	}
	if _, err := rules.ParseCatalogue([]byte(`{"taken":"2026-01-01","sizes":[]}`)); err == nil {
		t.Error("an empty catalogue was accepted")
	}
}

// TestPlansBuiltinCheapestFit: with the built-in catalogue, a 30 GiB image
// names a plan that can launch it (the flat two-plan list said "none"),
// and the 25 GiB demo disk the cheapest Basic plan.
func TestPlansBuiltinCheapestFit(t *testing.T) {
	sizes := rules.BuiltinCatalogue().Sizes
	for _, tc := range []struct {
		virtual int64
		unit    string
	}{{30 * rules.GiB, "gib"}, {25 * rules.GiB, "gib"}, {25 * rules.GiB, "gb"}, {100 * rules.GiB, "gib"}} {
		fs := runDisk(t, "disk.plans", gptDisk(tc.virtual, 8*rules.GiB, rules.GiB), rules.Options{PlanUnit: tc.unit})
		// The expected answer, worked out here from the catalogue.
		unit := rules.GiB
		if tc.unit == "gb" {
			unit = rules.GB
		}
		var best rules.Plan
		n := 0
		for _, p := range sizes {
			if p.DiskGB*unit < tc.virtual {
				continue
			}
			n++
			if best.Slug == "" || p.PriceUSD < best.PriceUSD || (p.PriceUSD == best.PriceUSD && p.DiskGB < best.DiskGB) {
				best = p
			}
		}
		want := fmt.Sprintf("cheapest plan that can launch the image: %s ($%.2f/month, %d GB disk); %d of %d plans can (built-in catalogue of %s)",
			best.Slug, best.PriceUSD, best.DiskGB, n, len(sizes), rules.BuiltinCatalogue().Taken)
		if len(fs) != 1 || fs[0].Level != rules.Info || fs[0].Message != want {
			t.Errorf("%d bytes, unit %s: %+v\nwant %s", tc.virtual, tc.unit, fs, want)
		}
		if fs[0].Get("cheapest") != best.Slug || fs[0].Get("fit") != fmt.Sprintf("%d of %d", n, len(sizes)) {
			t.Errorf("evidence: %+v", fs[0].Evidence)
		}
		fits, small := 0, 0
		for _, kv := range fs[0].Evidence {
			switch kv.Key {
			case "fits":
				fits++
			case "too_small":
				small++
			}
		}
		// At most five of each: the cheapest that fit, the largest that do not.
		if fits != min(n, 5) || small != min(len(sizes)-n, 5) {
			t.Errorf("evidence lists %d plans that fit and %d too small, want %d and %d", fits, small, min(n, 5), min(len(sizes)-n, 5))
		}
	}
	// The values above, pinned to the shipped data.
	fs := runDisk(t, "disk.plans", gptDisk(30*rules.GiB, 8*rules.GiB, rules.GiB), rules.Options{})
	if !strings.Contains(fs[0].Message, "s-1vcpu-1gb-35gb-intel ($8.00/month, 35 GB disk)") {
		t.Errorf("30 GiB: %s", fs[0].Message)
	}
	fs = runDisk(t, "disk.plans", gptDisk(25*rules.GiB, 8*rules.GiB, rules.GiB), rules.Options{})
	if !strings.Contains(fs[0].Message, "s-1vcpu-1gb ($6.00/month, 25 GB disk)") {
		t.Errorf("25 GiB: %s", fs[0].Message)
	}
}

func TestPlansNoneFits(t *testing.T) {
	o := rules.Options{Plans: []rules.Plan{{Slug: "s-1vcpu-1gb", DiskGB: 25, PriceUSD: 6}, {Slug: "s-2vcpu-4gb", DiskGB: 80, PriceUSD: 24}},
		PlanSource: "saved catalogue sizes.json of 2026-12-01", PlanTaken: "2026-12-01"}
	fs := runDisk(t, "disk.plans", gptDisk(100*rules.GiB, 8*rules.GiB, rules.GiB), o)
	want := "no plan can launch the image: the largest plan disk is s-2vcpu-4gb ($24.00/month, 80 GB disk), 85899345920 bytes (85.90 GB, 80.00 GiB) (2 plans, saved catalogue sizes.json of 2026-12-01)"
	if len(fs) != 1 || fs[0].Level != rules.Info || fs[0].Message != want || fs[0].Get("taken") != "2026-12-01" || fs[0].Get("fit") != "0 of 2" {
		t.Errorf("%+v\nwant %s", fs, want)
	}
}
