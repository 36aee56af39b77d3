package report

import (
	"time"

	"github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/rules"
)

// Options control how reports are written. The zero value writes plain text,
// fails on FAIL only and names no tool version.
type Options struct {
	Color   bool        // ANSI colour in text output
	FailOn  rules.Level // rules.Fail (default) or rules.Warn; decides JUnit failures
	Version string      // tool version, written into JSON, SARIF and text headers
	// ShowContents prints, in text reports only, the bodies of the log and
	// authorized_keys files that findings name, read during the scan into Image.Contents
	// (--show-contents). Private keys are never printed.
	ShowContents bool
	// Verbosity of text reports: Quiet prints the verdict line only,
	// Normal (the default) the findings that need action (FAIL, ERROR,
	// WARN) and the counts, Verbose every finding.
	Verbosity Verbosity
	// SARIFAll writes PASS, INFO and SKIP findings into SARIF too (as
	// results of kind pass, informational and notApplicable); by default
	// SARIF holds only what needs action, since code scanning opens an
	// alert per result.
	SARIFAll bool
	// Now is when the report is written, for its generated_at and
	// timestamps; zero means time.Now().
	Now time.Time
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Verbosity is how much a text report shows.
type Verbosity int

// Verbosities.
const (
	Quiet   Verbosity = -1
	Normal  Verbosity = 0
	Verbose Verbosity = 1
)

func (o Options) failOn() rules.Level {
	if o.FailOn == rules.Warn {
		return rules.Warn
	}
	return rules.Fail
}

// failing reports whether f makes its image fail under o. In the img_check
// profile only counted findings can fail.
func (o Options) failing(f rules.Finding, p rules.Profile) bool {
	if f.Waived || (p == rules.ImgCheck && !imgcheck.Counted(f)) {
		return false
	}
	return f.Level == rules.Fail || (f.Level == rules.Warn && o.failOn() == rules.Warn)
}
