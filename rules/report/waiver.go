package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/imgcheck/imgcheck/rules"
)

const dateLayout = "2006-01-02"

// Waiver accepts a known WARN or FAIL finding for a while. A waived finding
// keeps its level, is flagged waived with the reason and does not count for
// the exit code. ERROR findings can never be waived.
type Waiver struct {
	Rule    string    // rule ID, required
	Image   string    // optional glob matched against the image path and its base name
	Subject string    // optional glob matched against the finding's subject
	Reason  string    // required
	Expires time.Time // required; the waiver holds through this day (UTC)
}

// waiverFile is the YAML form of a waivers file:
//
//	waivers:
//	  - rule: ssh.known-hosts
//	    image: "images/*.qcow2"
//	    subject: /root/.ssh/known_hosts
//	    reason: accepted until the next rebuild
//	    expires: 2026-12-31
type waiverFile struct {
	Waivers []struct {
		Rule    string `yaml:"rule"`
		Image   string `yaml:"image"`
		Subject string `yaml:"subject"`
		Reason  string `yaml:"reason"`
		Expires string `yaml:"expires"`
	} `yaml:"waivers"`
}

// ParseWaivers reads a waivers file. Unknown fields, unknown rule IDs,
// malformed globs, and waivers without a reason or an expiry date are errors.
func ParseWaivers(r io.Reader) ([]Waiver, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, errors.New("waivers file larger than 1 MiB")
	}
	var wf waiverFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("waivers: %w", err)
	}
	out := make([]Waiver, 0, len(wf.Waivers))
	for i, w := range wf.Waivers {
		n := i + 1
		if w.Rule == "" {
			return nil, fmt.Errorf("waiver %d: no rule", n)
		}
		if _, ok := rules.Lookup(w.Rule); !ok {
			return nil, fmt.Errorf("waiver %d: unknown rule %q (see 'imgcheck rules')", n, w.Rule)
		}
		if w.Reason == "" {
			return nil, fmt.Errorf("waiver %d (%s): no reason", n, w.Rule)
		}
		exp, err := time.Parse(dateLayout, w.Expires)
		if err != nil {
			return nil, fmt.Errorf("waiver %d (%s): expires %q is not a date (YYYY-MM-DD)", n, w.Rule, w.Expires)
		}
		for _, g := range []string{w.Image, w.Subject} {
			if _, err := path.Match(g, ""); err != nil {
				return nil, fmt.Errorf("waiver %d (%s): bad glob %q", n, w.Rule, g)
			}
		}
		out = append(out, Waiver{Rule: w.Rule, Image: w.Image, Subject: w.Subject, Reason: w.Reason, Expires: exp})
	}
	return out, nil
}

// Expired reports whether w no longer applies at now: it holds through its
// expiry day, in UTC.
func (w Waiver) Expired(now time.Time) bool {
	return !now.UTC().Before(w.Expires.AddDate(0, 0, 1))
}

func (w Waiver) matchesImage(p string) bool {
	if w.Image == "" {
		return true
	}
	slash := filepath.ToSlash(p)
	for _, cand := range []string{slash, path.Base(slash)} {
		if ok, _ := path.Match(w.Image, cand); ok {
			return true
		}
	}
	return false
}

func (w Waiver) matches(f rules.Finding) bool {
	if f.Rule != w.Rule || (f.Level != rules.Warn && f.Level != rules.Fail) {
		return false
	}
	if w.Subject == "" {
		return true
	}
	ok, _ := path.Match(w.Subject, f.Subject)
	return ok
}

func (w Waiver) describe() string {
	s := w.Rule
	if w.Image != "" {
		s += " image=" + w.Image
	}
	if w.Subject != "" {
		s += " subject=" + w.Subject
	}
	return s
}

// ApplyWaivers flags the WARN and FAIL findings of im that an unexpired
// waiver covers, and records in im.ExpiredWaivers the expired waivers that
// would have matched this image. ERROR, and every other level, is never
// waived.
func ApplyWaivers(im *Image, ws []Waiver, now time.Time) {
	for _, w := range ws {
		if !w.matchesImage(im.Path) {
			continue
		}
		if w.Expired(now) {
			im.ExpiredWaivers = append(im.ExpiredWaivers, w)
			continue
		}
		for ri := range im.Results {
			fs := im.Results[ri].Findings
			for fi := range fs {
				if !fs[fi].Waived && w.matches(fs[fi]) {
					fs[fi].Waived = true
					fs[fi].WaiverReason = w.Reason
				}
			}
		}
	}
}
