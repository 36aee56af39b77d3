package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
	"github.com/imgcheck/imgcheck/rules/facts/initramfs"
)

// maxInputFile caps the size of the files read whole: --plans, the saved
// Droplet sizes, --rpm-updateinfo, --manifest and the reports `report` reads.
const maxInputFile = 256 << 20

// ruleOptions turns the input flags into rules.Options.
func (o *scanOptions) ruleOptions(p rules.Profile) (rules.Options, error) {
	ro := rules.Options{Profile: p, Strict: o.strict, ShowContents: o.showContents, MaxRPMDB: o.limits.rpmDB, Initramfs: initramfs.Limits{Bytes: o.limits.initramfs}}
	switch strings.ToLower(o.planUnit) {
	case "gib", "gb":
		ro.PlanUnit = strings.ToLower(o.planUnit)
	default:
		return ro, usagef("--plan-unit %q: want gib or gb", o.planUnit)
	}
	if o.minDisk != "" {
		n, err := parseSize(o.minDisk)
		if err != nil {
			return ro, usagef("--min-disk: %v", err)
		}
		ro.MinDisk = n
	}
	if o.aptLists != "" {
		st, err := os.Stat(o.aptLists)
		if err != nil {
			return ro, &usageError{err}
		}
		if !st.IsDir() {
			return ro, usagef("--apt-lists %s: not a directory", o.aptLists)
		}
		ro.AptLists = os.DirFS(o.aptLists)
	}
	if o.rpmUpdateInfo != "" {
		data, err := readCapped(o.rpmUpdateInfo)
		if err != nil {
			return ro, &usageError{err}
		}
		ro.RPMUpdateInfo = []facts.NamedData{{Name: o.rpmUpdateInfo, Data: data}}
	}
	if o.plans != "" {
		data, err := readCapped(o.plans)
		if err != nil {
			return ro, &usageError{err}
		}
		if ro.Plans, err = parsePlans(data); err != nil {
			return ro, usagef("--plans %s: %v", o.plans, err)
		}
		ro.PlanSource = "--plans " + o.plans
	}
	o.useSavedSizes(&ro)
	return ro, nil
}

func readCapped(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInputFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxInputFile)
	}
	return data, nil
}

// parsePlans reads a plans file: the JSON of the sizes API ({"sizes":
// [...]}, which a saved catalogue also is), a JSON array of plans, or text
// lines "slug disk-GB".
func parsePlans(data []byte) ([]rules.Plan, error) {
	trimmed := strings.TrimSpace(string(data))
	switch {
	case strings.HasPrefix(trimmed, "{"):
		c, err := rules.ParseCatalogue(data)
		return c.Sizes, err
	case strings.HasPrefix(trimmed, "["):
		var ps []rules.Plan
		if err := json.Unmarshal(data, &ps); err != nil {
			return nil, err
		}
		return checkPlans(ps)
	}
	var ps []rules.Plan
	sc := bufio.NewScanner(strings.NewReader(trimmed))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want 'slug disk-GB'", n)
		}
		gb, err := strconv.ParseInt(strings.TrimSuffix(strings.ToLower(f[1]), "gb"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: disk %q is not a number of GB", n, f[1])
		}
		ps = append(ps, rules.Plan{Slug: f[0], DiskGB: gb})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return checkPlans(ps)
}

func checkPlans(ps []rules.Plan) ([]rules.Plan, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("no plans")
	}
	for _, p := range ps {
		if p.Slug == "" || p.DiskGB <= 0 {
			return nil, fmt.Errorf("plan %q: needs a slug and a positive disk size", p.Slug)
		}
	}
	return ps, nil
}

// sizeUnits are the suffixes parseSize accepts: decimal KB/MB/GB/TB,
// binary KiB/MiB/GiB/TiB and, as in qemu-img, single letters for binary.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseSize parses "25GiB", "26GB", "1.5T" or a plain number of bytes.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	mult, ok := sizeUnits[unit]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v <= 0 || math.IsInf(v*mult, 0) || v*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("bad size %q (want e.g. 25GiB, 26GB or a number of bytes)", s)
	}
	return int64(v * mult), nil
}
