package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// The DigitalOcean API cross-check (scan --do-image): what the API says of
// an image against what the scan found in the file. The CLI fetches the
// API's record and passes it in Options.DOImage; the rule runs only when
// enabled, which --do-image does.

var doImageRule = Rule{ID: "do.image", Title: "The DigitalOcean API's image record matches the scanned image",
	Off: true, Check: checkDOImage}

// APIImage is the DigitalOcean API's record of an image or snapshot, as the
// do.image rule compares it.
type APIImage struct {
	ID           string
	Name         string
	Kind         string // "image", or "snapshot" for a volume snapshot (no distribution field)
	Distribution string // the API's distribution field, e.g. "Ubuntu"
	MinDiskSize  int    // min_disk_size, in the API's GB
}

func checkDOImage(in *Input) []Finding {
	a := in.Opts.DOImage
	if a == nil {
		return []Finding{in.Skip(NotApplicable, "no DigitalOcean image to compare with (scan --do-image ID)")}
	}
	return []Finding{doDistribution(in, a), doMinDisk(in, a), doPlans(in, a)}
}

// doDistribution compares the API's distribution field with the guest's
// os-release: the name, and the release when the field names one.
func doDistribution(in *Input, a *APIImage) Finding {
	const subject = "distribution"
	r, err := in.Facts.OSRelease()
	if err != nil {
		f := in.Fault("os-release", err)
		f.Subject = subject
		return f
	}
	scanned := strings.TrimSpace(r.Name + " " + r.VersionID)
	ev := []KV{{"image_id", a.ID}, {"api_name", a.Name}, {"api_distribution", a.Distribution},
		{"scanned_id", r.ID}, {"scanned_name", r.Name}, {"scanned_version", r.VersionID}}
	if a.Kind == "snapshot" && a.Distribution == "" {
		f := in.Skip(NotApplicable, "the API's snapshot record has no distribution field")
		f.Subject = subject
		return f
	}
	if strings.TrimSpace(a.Distribution) == "" || strings.EqualFold(strings.TrimSpace(a.Distribution), "unknown") {
		f := in.New(Warn, subject, fmt.Sprintf("the API does not name the image's distribution (%q); the scan found %s", a.Distribution, quoteEmpty(scanned)), ev...)
		f.Fix = "set the image's distribution (control panel, or PUT /v2/images/" + a.ID + ")"
		return f
	}
	name, release := splitDistribution(a.Distribution)
	switch {
	case !sameDistribution(name, r.Name, r.ID):
		f := in.New(Warn, subject, fmt.Sprintf("the API says the image is %q, the scan found %s", a.Distribution, quoteEmpty(scanned)), ev...)
		f.Fix = "correct the image's distribution in DigitalOcean, or check that this file is the image " + a.ID
		return f
	case release != "" && !sameRelease(release, r.VersionID):
		f := in.New(Warn, subject, fmt.Sprintf("the API says release %s, the scan found %s", release, quoteEmpty(scanned)), ev...)
		f.Fix = "correct the image's distribution in DigitalOcean, or check that this file is the image " + a.ID
		return f
	}
	return in.New(Pass, subject, fmt.Sprintf("the API's distribution %q matches the scanned %s", a.Distribution, scanned), ev...)
}

// splitDistribution separates a release ("22.04", "9") from the name in an
// API distribution field such as "CentOS 7".
func splitDistribution(s string) (name, release string) {
	var words []string
	for _, w := range strings.Fields(s) {
		if release == "" && w[0] >= '0' && w[0] <= '9' {
			release = strings.TrimSuffix(w, ".x")
			continue
		}
		words = append(words, w)
	}
	return strings.Join(words, " "), release
}

// sameDistribution reports whether the API's distribution name names the
// guest's OS: "Debian" matches "Debian GNU/Linux", "CentOS" "CentOS
// Stream", "Rocky Linux" the ID rocky.
func sameDistribution(api, name, id string) bool {
	a, n, i := alnum(api), alnum(name), alnum(id)
	if a == "" {
		return false
	}
	return (n != "" && strings.Contains(n, a)) || (i != "" && (strings.Contains(a, i) || strings.Contains(i, a)))
}

// sameRelease reports whether VERSION_ID is the release or one of its
// point releases ("22.04" for "22.04", "9.4" for "9").
func sameRelease(release, versionID string) bool {
	return versionID == release || strings.HasPrefix(versionID, release+".")
}

func alnum(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// planUnitSize is the size of the plan unit in bytes and its name.
func planUnitSize(o *Options) (int64, string) {
	if strings.EqualFold(o.PlanUnit, "gb") {
		return GB, "GB"
	}
	return GiB, "GiB"
}

// neededDisk is the smallest whole plan disk, in plan units, that holds
// the virtual disk.
func neededDisk(o *Options, virtual int64) int64 {
	unit, _ := planUnitSize(o)
	return (virtual + unit - 1) / unit
}

// doMinDisk compares the API's min_disk_size with the disk the scanned
// virtual size needs.
func doMinDisk(in *Input, a *APIImage) Finding {
	const subject = "min_disk_size"
	if in.Disk == nil {
		f := in.Skip(NotApplicable, "no disk image: a --root scan has no virtual disk to compare with min_disk_size")
		f.Subject = subject
		return f
	}
	_, unit := planUnitSize(in.Opts)
	need := neededDisk(in.Opts, in.Disk.VirtualSize)
	ev := []KV{{"image_id", a.ID}, {"api_min_disk_size", fmt.Sprintf("%d GB", a.MinDiskSize)},
		{"virtual_size", FormatSize(in.Disk.VirtualSize)}, {"scanned_min_disk", fmt.Sprintf("%d %s", need, unit)}, {"plan_unit", unit}}
	api := int64(a.MinDiskSize)
	switch {
	case api < need:
		f := in.New(Warn, subject, fmt.Sprintf("the API's min_disk_size %d is smaller than the %d %s the scanned virtual disk needs: the API would offer plans whose disk cannot hold this image",
			api, need, unit), ev...)
		f.Fix = "check that this file is the image " + a.ID + ", or rebuild it at the size the API reports"
		return f
	case api > need:
		f := in.New(Warn, subject, fmt.Sprintf("the API's min_disk_size %d is larger than the %d %s the scanned virtual disk needs: plans with smaller disks are excluded",
			api, need, unit), ev...)
		f.Fix = "check that this file is the image " + a.ID + "; a snapshot keeps the disk size of the Droplet it was taken from, so build on the smallest plan"
		return f
	}
	return in.New(Pass, subject, fmt.Sprintf("the API's min_disk_size %d matches the scanned virtual disk (%d %s)", api, need, unit), ev...)
}

// doPlans lists, cheapest first, the plans that can launch the image by
// both counts: the API's min_disk_size and the scanned virtual size.
func doPlans(in *Input, a *APIImage) Finding {
	const subject = "plans"
	plans := in.Opts.Plans
	if len(plans) == 0 {
		f := in.Skip(NotApplicable, "no plans from the DigitalOcean sizes API")
		f.Subject = subject
		return f
	}
	source := in.Opts.PlanSource
	if source == "" {
		source = "supplied"
	}
	need := int64(a.MinDiskSize)
	if in.Disk != nil {
		need = max(need, neededDisk(in.Opts, in.Disk.VirtualSize))
	}
	var fit []Plan
	for _, p := range plans {
		if p.DiskGB >= need {
			fit = append(fit, p)
		}
	}
	slices.SortStableFunc(fit, func(x, y Plan) int {
		return cmp.Or(cmp.Compare(x.PriceUSD, y.PriceUSD), cmp.Compare(x.Slug, y.Slug))
	})
	ev := []KV{{KeySource, source}, {"min_disk", fmt.Sprintf("%d GB", need)}}
	var names []string
	for _, p := range fit {
		ev = append(ev, KV{"plan", fmt.Sprintf("%s: %d GB disk, $%.2f/month", p.Slug, p.DiskGB, p.PriceUSD)})
		names = append(names, p.Slug)
	}
	if len(fit) == 0 {
		return in.New(Warn, subject, fmt.Sprintf("no plan (%s) has a disk of %d or more: the image cannot be launched", source, need), ev...)
	}
	msg := fmt.Sprintf("%d plans (%s) can launch the image, cheapest first: %s", len(fit), source, strings.Join(names[:min(len(names), 3)], ", "))
	if len(names) > 3 {
		msg += ", ..."
	}
	return in.New(Info, subject, msg, ev...)
}
