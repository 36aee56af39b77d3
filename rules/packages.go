package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/imgcheck/imgcheck/rules/facts"
)

var pkgSecurityUpdatesRule = Rule{
	ID: "pkg.security-updates", Title: "No security updates are pending",
	Check: checkSecurityUpdates,
}

var pkgMongodbSsplRule = Rule{
	ID: "pkg.mongodb-sspl", Title: "MongoDB is not an SSPL-licensed version (legacy)",
	Off:   true,
	Check: checkMongoSSPL,
}

const securityFix = "apt-get update && apt-get -y upgrade (or yum -y update --security) before the snapshot"

// checkSecurityUpdates is pkg.security-updates, by family and profile.
func checkSecurityUpdates(in *Input) []Finding {
	fam, err := in.Facts.Family()
	if err != nil {
		return []Finding{in.Fault("os family", err)}
	}
	switch {
	case fam == facts.RPM:
		return marketRPMUpdates(in)
	case fam == facts.Deb:
		return marketAptUpdates(in)
	}
	return []Finding{in.Skip(NotApplicable, "unknown OS family")}
}

// marketAptUpdates reports each pending package.
func marketAptUpdates(in *Input) []Finding {
	res, err := in.Facts.AptSecurity()
	if err != nil {
		return []Finding{in.Fault("apt lists", err)}
	}
	var out []Finding
	if db, err := in.Facts.Packages(); err == nil && len(db.Journal) > 0 {
		out = append(out, in.New(Info, "/var/lib/dpkg/updates", "dpkg journal not applied (interrupted dpkg run)", KV{KeyPath, strings.Join(db.Journal, " ")}))
	}
	if db, err := in.Facts.Packages(); err == nil {
		for _, p := range db.Reinstall {
			out = append(out, in.New(Info, p, "package needs reinstall", KV{KeyPackage, p}))
		}
	}
	if !res.Evaluable {
		return append(out, in.Skip(NotEvaluable, "no security index for this release in /var/lib/apt/lists; supply current indexes with --apt-lists DIR"))
	}
	date := []KV{{KeyDate, res.Date}, {"age_days", fmt.Sprint(res.AgeDays)}, {"indexes", strings.Join(res.Indexes, " ")},
		{"note", "Release signatures not verified; pinning and phased updates ignored"}}
	if len(res.Pending) == 0 {
		f := in.New(Pass, "security updates", "No pending security updates as of "+firstNonEmpty(res.Date, "an undated index"), date...)
		return append(out, f)
	}
	for _, u := range res.Pending {
		ev := []KV{{KeyPackage, u.Name}, {"arch", u.Arch}, {KeyVersion, u.Installed}, {KeyCandidate, u.Candidate}, {KeySuite, u.Suite}}
		var tags []string
		if u.Held {
			tags = append(tags, "held")
		}
		if u.KeptBack {
			tags = append(tags, "kept-back")
		}
		where := u.Suite
		if len(tags) > 0 {
			ev = append(ev, KV{"tags", strings.Join(tags, ",")})
			where += "; " + strings.Join(tags, ", ")
		}
		f := in.New(Fail, u.Name, fmt.Sprintf("Security update pending: %s %s → %s (%s)", u.Name, u.Installed, u.Candidate, where), append(ev, date...)...)
		f.Fix = securityFix
		out = append(out, f)
	}
	return out
}

// marketRPMUpdates reports each pending package from updateinfo.
func marketRPMUpdates(in *Input) []Finding {
	res, err := in.Facts.RPMSecurity()
	if err != nil {
		return []Finding{in.Fault("updateinfo", err)}
	}
	db, err := in.Facts.Packages()
	if err != nil {
		return []Finding{in.Fault("rpm database", err)}
	}
	var out []Finding
	if len(db.EnvFiles) > 0 {
		out = append(out, in.New(Info, db.Path, "host-specific BerkeleyDB environment files (__db.*) next to the rpm database",
			KV{KeyPath, strings.Join(db.EnvFiles, " ")}, KV{"backend", db.Format}))
	}
	if !res.Evaluable {
		return append(out, in.Skip(NotEvaluable, "no updateinfo metadata in the image; supply it with --rpm-updateinfo FILE"))
	}
	src := KV{KeySource, strings.Join(res.Sources, " ")}
	backend := KV{"backend", db.Format}
	if len(res.Pending) == 0 {
		f := in.New(Pass, "security updates", "No pending security updates as of "+firstNonEmpty(res.Date, "an undated advisory list"), src, KV{KeyDate, res.Date}, backend)
		f.Approximate = true
		return append(out, f)
	}
	for _, u := range res.Pending {
		f := in.New(Fail, u.Name, fmt.Sprintf("Security update pending: %s.%s %s → %s (%s)", u.Name, u.Arch, u.Installed, u.Candidate, u.Suite),
			KV{KeyPackage, u.Name}, KV{"arch", u.Arch}, KV{KeyVersion, u.Installed}, KV{KeyCandidate, u.Candidate}, KV{"advisory", u.Suite}, src, KV{KeyDate, res.Date}, backend)
		f.Fix, f.Approximate = securityFix, true
		out = append(out, f)
	}
	return out
}

// mongoPackages are the MongoDB server packages.
var mongoPackages = []string{"mongodb-org-server", "mongodb-server", "mongodb-server-core"}

var mongodVersionRE = lazyRegexp(`db version v([0-9][0-9A-Za-z.\-+~]*)`)

// checkMongoSSPL is pkg.mongodb-sspl.
func checkMongoSSPL(in *Input) []Finding {
	db, err := in.Facts.Packages()
	if err != nil {
		return []Finding{in.Fault("package database", err)}
	}
	var ver string
	var ev []KV
	for _, name := range mongoPackages {
		if p := db.Installed(name); len(p) > 0 {
			ver = p[0].Upstream()
			if _, y, ok := strings.Cut(ver, "+really"); ok {
				ver, _, _ = strings.Cut(y, "+") // Y's own packaging suffix is not part of the version
			}
			ev = []KV{{KeyPackage, name}, {KeyVersion, p[0].Version}}
			break
		}
	}
	if ver == "" {
		v, err := mongodBinaryVersion(in)
		if err != nil {
			return []Finding{in.Fault("/usr/bin/mongod", err)}
		}
		ver, ev = v, []KV{{KeyPath, "/usr/bin/mongod"}, {KeyVersion, v}}
	}
	if ver == "" {
		return []Finding{in.New(Pass, "mongodb", "MongoDB is not installed")}
	}
	sspl := facts.DebCompare("4.0.3", ver) < 0
	if facts.DebCompare("4.0.0", ver) >= 0 {
		sspl = facts.DebCompare("3.6.8", ver) < 0
	}
	if sspl {
		f := in.New(Fail, "mongodb", "An SSPL version of MongoDB is present, "+ver, ev...)
		f.Fix = "Replace MongoDB with a version released before the SSPL licence change"
		return []Finding{f}
	}
	return []Finding{in.New(Pass, "mongodb", "The version of MongoDB installed, "+ver+" is not under the SSPL", ev...)}
}

// mongodScanCap is the largest mongod binary scanned for its version
// (real ones are about 100 MiB).
const mongodScanCap = 512 << 20

// mongodBinaryVersion scans /usr/bin/mongod (never executed) for the
// embedded "db version v…" string; "" when absent.
func mongodBinaryVersion(in *Input) (string, error) {
	ok, err := facts.IsRegular(in.Guest, "usr/bin/mongod")
	if err != nil || !ok {
		return "", err
	}
	f, err := in.Guest.Open("usr/bin/mongod")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return "", err
	} else if st.Size() > mongodScanCap {
		return "", fmt.Errorf("/usr/bin/mongod is %d bytes: cap reached (%d bytes scanned for its version at most)", st.Size(), mongodScanCap)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var tail []byte
	buf := make([]byte, 1<<20)
	for {
		n, err := r.Read(buf)
		chunk := append(tail, buf[:n]...)
		// A match too close to the end may be cut; it is found again in the next window.
		if loc := mongodVersionRE().FindSubmatchIndex(chunk); loc != nil && (loc[1] < len(chunk)-32 || err == io.EOF) {
			return string(bytes.TrimRight(chunk[loc[2]:loc[3]], ".-+~")), nil
		}
		if len(chunk) > 64 {
			tail = append([]byte(nil), chunk[len(chunk)-64:]...)
		}
		if err == io.EOF {
			return "", nil
		}
		if err != nil {
			return "", err
		}
	}
}
