package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/rules"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string           `xml:"name,attr"`
	Classname  string           `xml:"classname,attr"`
	Time       string           `xml:"time,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Failure    *junitMessage    `xml:"failure,omitempty"`
	Error      *junitMessage    `xml:"error,omitempty"`
	Skipped    *junitMessage    `xml:"skipped,omitempty"`
	SystemOut  *junitOutput     `xml:"system-out,omitempty"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitOutput struct {
	Text string `xml:",cdata"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",cdata"`
}

// JUnit writes one testsuite per image (with its start timestamp and
// time) and one testcase per rule evaluated (with its time), passed rules
// included, so a clean scan is N passing tests. A rule with a non-waived
// FAIL is a failure whose body lists that rule's failing findings only;
// with an ERROR, an error; with only SKIP findings, skipped. WARN findings
// are written where CI viewers look, the testcase's system-out, and as
// "warn" properties; they are failures when Options.FailOn is rules.Warn.
// An image that could not be scanned is a suite with a single errored
// testcase.
func JUnit(w io.Writer, reports []Image, o Options) error {
	doc := junitSuites{Name: "imgcheck"}
	for i := range reports {
		s := junitSuiteFor(&reports[i], o)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitSuiteFor(im *Image, o Options) junitSuite {
	s := junitSuite{Name: rules.Redact(im.Path)}
	s.Properties = append(s.Properties, junitProperty{"profile", profileName(im.Profile)}, junitProperty{"verdict", string(im.Verdict())})
	if t := osText(im.OS); t != "" {
		s.Properties = append(s.Properties, junitProperty{"os", t})
	}
	if im.SHA256 != "" {
		s.Properties = append(s.Properties, junitProperty{"sha256", im.SHA256})
	}
	s.Time = seconds(im.Duration)
	if !im.Started.IsZero() {
		s.Timestamp = im.Started.UTC().Format("2006-01-02T15:04:05")
	}
	class := "imgcheck." + junitClass(im.Path)
	if im.Err != nil {
		s.Cases = append(s.Cases, junitCase{Name: ImageUnreadable, Classname: class, Time: s.Time,
			Error: &junitMessage{Message: rules.Redact(oneLine(im.Err.Error())), Type: "ERROR"}})
	}
	for _, r := range im.Results {
		s.Cases = append(s.Cases, junitCaseFor(r, class, im.Profile, o))
	}
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Error != nil:
			s.Errors++
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	return s
}

// seconds is a duration as JUnit's time attribute writes it.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// junitLine is one finding as a line of a testcase body.
func junitLine(f rules.Finding) string {
	line := fmt.Sprintf("%s %s", f.Level.Tag(), oneLine(f.Message))
	if ev := evidenceText(f); ev != "" {
		line += " (" + ev + ")"
	}
	if f.Waived {
		line += " [waived: " + oneLine(f.WaiverReason) + "]"
	}
	if f.Fix != "" {
		line += " fix: " + oneLine(f.Fix)
	}
	return rules.Redact(line) + "\n"
}

// junitBody is the lines of fs, safe for a CDATA section.
func junitBody(fs []rules.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(junitLine(f))
	}
	return xmlSafe(b.String())
}

func junitCaseFor(r rules.Result, class string, p rules.Profile, o Options) junitCase {
	c := junitCase{Name: r.Rule.ID, Classname: class, Time: seconds(r.Duration)}
	var failing, errs, warns []rules.Finding
	allSkip := len(r.Findings) > 0
	for _, f := range r.Findings {
		switch {
		case f.Level == rules.Error:
			errs = append(errs, f)
		case o.failing(f, p):
			failing = append(failing, f)
		case f.Level == rules.Warn:
			warns = append(warns, f)
		}
		if f.Level != rules.Skip {
			allSkip = false
		}
	}
	if len(warns) > 0 {
		c.Properties = &junitProperties{}
		for _, f := range warns {
			c.Properties.Property = append(c.Properties.Property, junitProperty{"warn", rules.Redact(oneLine(f.Message))})
		}
	}
	switch {
	case len(errs) > 0:
		c.Error = &junitMessage{Message: rules.Redact(oneLine(errs[0].Message)), Type: "ERROR", Body: junitBody(errs)}
	case len(failing) > 0:
		c.Failure = &junitMessage{Message: rules.Redact(oneLine(failing[0].Message)), Type: strings.ToUpper(failing[0].Level.String()), Body: junitBody(failing)}
	case allSkip:
		c.Skipped = &junitMessage{Message: rules.Redact(oneLine(r.Findings[0].Message))}
	}
	// system-out: the whole rule's findings for a passing case, the WARNs
	// beside a failure or an error.
	switch {
	case c.Error == nil && c.Failure == nil && c.Skipped == nil:
		c.SystemOut = &junitOutput{junitBody(r.Findings)}
	case len(warns) > 0:
		c.SystemOut = &junitOutput{junitBody(warns)}
	}
	return c
}

// junitClass makes a dotted class name from an image path, so that CI
// dashboards group the testcases of one image.
func junitClass(p string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, p)
}

// xmlSafe replaces the characters XML 1.0 cannot hold (most C0 controls,
// which a hostile file name may carry) with U+FFFD, since CDATA sections
// are not escaped.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return '\uFFFD'
		}
		return r
	}, s)
}
