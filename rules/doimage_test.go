package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
)

// runDOImage runs do.image on an ext4 guest with the given os-release and
// disk facts (nil for a --root scan).
func runDOImage(t *testing.T, osRelease string, d *rules.Disk, o rules.Options) map[string]rules.Finding {
	t.Helper()
	r, ok := rules.Lookup("do.image")
	if !ok {
		t.Fatal("do.image is not registered")
	}
	if !r.Off {
		t.Error("do.image must be opt-in: it needs the API record")
	}
	o.Profile = rules.Marketplace
	g := testGuest(t, fstest.MapFS{"etc/os-release": fixtures.File(osRelease, 0o644)})
	res := rules.Run(t.Context(), g, []rules.Rule{r}, o, d)
	out := map[string]rules.Finding{}
	for _, f := range res[0].Findings {
		out[f.Subject] = f
	}
	return out
}

const (
	ubuntu2204 = "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n"
	rocky94    = "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n"
	debian12   = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"
)

func TestDOImageDistribution(t *testing.T) {
	for _, tc := range []struct {
		osRelease, api string
		want           rules.Level
	}{
		{ubuntu2204, "Ubuntu", rules.Pass},
		{ubuntu2204, "Ubuntu 22.04", rules.Pass},
		{ubuntu2204, "Ubuntu 24.04", rules.Warn},
		{ubuntu2204, "Debian", rules.Warn},
		{ubuntu2204, "Unknown", rules.Warn},
		{ubuntu2204, "", rules.Warn},
		{rocky94, "Rocky Linux", rules.Pass},
		{rocky94, "Rocky Linux 9", rules.Pass},
		{rocky94, "CentOS", rules.Warn},
		{debian12, "Debian", rules.Pass},
		{debian12, "Ubuntu", rules.Warn},
	} {
		got := runDOImage(t, tc.osRelease, nil, rules.Options{DOImage: &rules.APIImage{ID: "42", Distribution: tc.api, MinDiskSize: 25}})
		f := got["distribution"]
		if f.Level != tc.want {
			t.Errorf("API %q on %q: %s %q, want %s", tc.api, tc.osRelease, f.Level, f.Message, tc.want)
		}
		if f.Get("api_distribution") != tc.api {
			t.Errorf("API %q: evidence %v", tc.api, f.Evidence)
		}
	}
}

func TestDOImageMinDisk(t *testing.T) {
	for _, tc := range []struct {
		name    string
		virtual int64
		unit    string
		api     int
		want    rules.Level
		msg     string
	}{
		{"equal GiB", 25 * rules.GiB, "", 25, rules.Pass, "matches"},
		{"api larger", 10 * rules.GiB, "", 25, rules.Warn, "larger than the 10 GiB the scanned virtual disk needs: plans with smaller disks are excluded"},
		{"api smaller", 30 * rules.GiB, "", 25, rules.Warn, "smaller than the 30 GiB"},
		{"partial GiB rounds up", 25*rules.GiB + 1, "", 25, rules.Warn, "26 GiB"},
		{"GB unit", 25 * rules.GiB, "gb", 25, rules.Warn, "27 GB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := gptDisk(tc.virtual, 64<<20, 8<<20)
			got := runDOImage(t, ubuntu2204, d, rules.Options{PlanUnit: tc.unit, DOImage: &rules.APIImage{ID: "42", Distribution: "Ubuntu", MinDiskSize: tc.api}})
			f := got["min_disk_size"]
			if f.Level != tc.want || !strings.Contains(f.Message, tc.msg) {
				t.Errorf("%s %q, want %s containing %q", f.Level, f.Message, tc.want, tc.msg)
			}
		})
	}
}

func TestDOImagePlansCheapestFirst(t *testing.T) {
	plans := []rules.Plan{{Slug: "s-2vcpu-4gb", DiskGB: 80, PriceUSD: 24}, {Slug: "s-1vcpu-512mb-10gb", DiskGB: 10, PriceUSD: 4},
		{Slug: "s-1vcpu-2gb", DiskGB: 50, PriceUSD: 12}, {Slug: "s-1vcpu-1gb", DiskGB: 25, PriceUSD: 6}}
	o := rules.Options{Plans: plans, PlanSource: "DigitalOcean sizes API", DOImage: &rules.APIImage{ID: "42", Distribution: "Ubuntu", MinDiskSize: 25}}
	// The API allows 25 GB disks, but the scanned disk needs 30 GiB.
	f := runDOImage(t, ubuntu2204, gptDisk(30*rules.GiB, 64<<20, 8<<20), o)["plans"]
	var got []string
	for _, kv := range f.Evidence {
		if kv.Key == "plan" {
			got = append(got, kv.Value)
		}
	}
	want := "s-1vcpu-2gb: 50 GB disk, $12.00/month|s-2vcpu-4gb: 80 GB disk, $24.00/month"
	if f.Level != rules.Info || strings.Join(got, "|") != want || f.Get(rules.KeySource) != "DigitalOcean sizes API" {
		t.Errorf("%s %q %v", f.Level, f.Message, f.Evidence)
	}
	o.DOImage.MinDiskSize = 100
	if f := runDOImage(t, ubuntu2204, gptDisk(30*rules.GiB, 64<<20, 8<<20), o)["plans"]; f.Level != rules.Warn {
		t.Errorf("no plan fits: %s %q", f.Level, f.Message)
	}
}

func TestDOImageWithoutAPIRecord(t *testing.T) {
	got := runDOImage(t, ubuntu2204, nil, rules.Options{})
	if len(got) != 1 || got[""].Level != rules.Skip || got[""].SkipReason != rules.NotApplicable {
		t.Errorf("without --do-image: %+v", got)
	}
	// A --root scan has no virtual disk: min_disk_size is not applicable,
	// the distribution is still compared.
	got = runDOImage(t, ubuntu2204, nil, rules.Options{DOImage: &rules.APIImage{ID: "42", Distribution: "Ubuntu", MinDiskSize: 25}})
	if got["min_disk_size"].Level != rules.Skip || got["distribution"].Level != rules.Pass {
		t.Errorf("--root scan: %+v", got)
	}
	// A volume snapshot's record has no distribution to compare.
	got = runDOImage(t, ubuntu2204, nil, rules.Options{DOImage: &rules.APIImage{ID: "6372321a", Kind: "snapshot", MinDiskSize: 25}})
	if got["distribution"].Level != rules.Skip {
		t.Errorf("snapshot: %+v", got["distribution"])
	}
}
