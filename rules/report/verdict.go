package report

import (
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

// Counts are the number of findings of each level. Waived counts the WARN
// and FAIL findings a waiver covered; they are included in Warn and Fail too.
type Counts struct {
	Pass   int `json:"pass"`
	Info   int `json:"info"`
	Skip   int `json:"skip"`
	Warn   int `json:"warn"`
	Fail   int `json:"fail"`
	Error  int `json:"error"`
	Waived int `json:"waived"`
}

// Count tallies the findings of im. An image that could not be scanned
// counts as one ERROR.
func (im *Image) Count() Counts {
	var c Counts
	if im.Err != nil {
		c.Error++
	}
	for f := range im.findings() {
		switch f.Level {
		case rules.Pass:
			c.Pass++
		case rules.Info:
			c.Info++
		case rules.Skip:
			c.Skip++
		case rules.Warn:
			c.Warn++
		case rules.Fail:
			c.Fail++
		case rules.Error:
			c.Error++
		}
		if f.Waived {
			c.Waived++
		}
	}
	return c
}

// Verdict is the one-word outcome of an image.
type Verdict string

// Verdicts, from the best to the worst for the reader.
const (
	VerdictPass  Verdict = "pass"
	VerdictWarn  Verdict = "warn"
	VerdictError Verdict = "error"
	VerdictFail  Verdict = "fail"
)

// Verdict decides the outcome of im. In the marketplace profile it follows
// A non-waived FAIL fails the image, then any ERROR makes it
// an error, then a non-waived WARN warns. In the img_check profile it is
// the script's own outcome: its exit code 1 fails, 3 is an
// error, STATUS 1 warns; waivers do not apply there.
func (im *Image) Verdict() Verdict {
	if im.Err != nil {
		return VerdictError
	}
	if im.Profile == rules.ImgCheck {
		return parityVerdict(im.Results)
	}
	var fail, warn, errs bool
	for f := range im.findings() {
		switch {
		case f.Level == rules.Error:
			errs = true
		case f.Waived:
		case f.Level == rules.Fail:
			fail = true
		case f.Level == rules.Warn:
			warn = true
		}
	}
	switch {
	case fail:
		return VerdictFail
	case errs:
		return VerdictError
	case warn:
		return VerdictWarn
	}
	return VerdictPass
}

func parityVerdict(rs []rules.Result) Verdict {
	switch imgcheck.ExitCode(rs) {
	case ExitFail:
		return VerdictFail
	case ExitError:
		return VerdictError
	}
	if _, _, _, status := imgcheck.Counts(rs); status == 1 {
		return VerdictWarn
	}
	return VerdictPass
}

// Exit codes. ExitUsage belongs to the CLI; it is listed
// here so that the whole table lives in one place.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
	ExitError = 3
)

// ExitCode is the process exit status for a set of reports:
// 1 if any image fails, else 3 if any image is an error (an ERROR finding,
// or the image could not be scanned), else 1 if failOn is rules.Warn and any
// image warns, else 0. Each image's verdict follows its profile, so an
// img_check image exits as the script would.
func ExitCode(reports []Image, failOn rules.Level) int {
	seen := map[Verdict]bool{}
	for i := range reports {
		seen[reports[i].Verdict()] = true
	}
	return ExitCodeOf(seen, failOn)
}

// ExitCodeOf is ExitCode given the set of verdicts the images had, for a
// batch that does not keep its images.
func ExitCodeOf(seen map[Verdict]bool, failOn rules.Level) int {
	switch {
	case seen[VerdictFail]:
		return ExitFail
	case seen[VerdictError]:
		return ExitError
	case seen[VerdictWarn] && failOn == rules.Warn:
		return ExitFail
	}
	return ExitOK
}
