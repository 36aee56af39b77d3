package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/imgcheck/imgcheck/rules"
)

// A Tally sums up a batch one image at a time, keeping a summary row per
// image and a count per rule instead of the images themselves, so that a
// batch of any length writes its tables in little memory.
type Tally struct {
	rows  []tallyRow
	rules map[string]*RuleTally
}

type tallyRow struct {
	path, os, release string
	counts            Counts
	disk              int64
	verdict           Verdict
	reason            string // why the image is an error, "" otherwise
}

// RuleTally is how many images a rule found at FAIL, WARN and ERROR
// (waived findings left out).
type RuleTally struct {
	Rule              string
	Fail, Warn, Error int
}

// Add counts one image.
func (t *Tally) Add(im *Image) {
	r := tallyRow{path: rules.Redact(im.Path), os: im.OS.Name, release: im.OS.VersionID, counts: im.Count(), disk: im.VirtualSize, verdict: im.Verdict()}
	if im.Err != nil {
		r.os, r.release = "", ""
	}
	if r.verdict == VerdictError {
		r.reason = rules.Redact(errorReason(im))
	}
	t.rows = append(t.rows, r)
	if t.rules == nil {
		t.rules = map[string]*RuleTally{}
	}
	for id, lv := range worstLevels(im) {
		if levelRank(lv) == 0 {
			continue
		}
		rt := t.rules[id]
		if rt == nil {
			rt = &RuleTally{Rule: id}
			t.rules[id] = rt
		}
		switch lv {
		case rules.Fail:
			rt.Fail++
		case rules.Error:
			rt.Error++
		case rules.Warn:
			rt.Warn++
		}
	}
}

// levelRank orders the levels that need action: FAIL, then ERROR, then WARN.
func levelRank(l rules.Level) int {
	switch l {
	case rules.Fail:
		return 3
	case rules.Error:
		return 2
	case rules.Warn:
		return 1
	}
	return 0
}

// errorReason is the one-line reason an image is an error: its scan error,
// else why no root filesystem could be read, else its first ERROR finding.
func errorReason(im *Image) string {
	if im.Err != nil {
		return oneLine(im.Err.Error())
	}
	if im.RootError != "" {
		return "no readable root filesystem: " + oneLine(im.RootError)
	}
	for f := range im.findings() {
		if f.Level == rules.Error {
			return f.Rule + ": " + oneLine(f.Message)
		}
	}
	return ""
}

// Images is the number of images counted.
func (t *Tally) Images() int { return len(t.rows) }

// Rules returns the rules that found something, worst first: most images
// at FAIL, then at ERROR, then at WARN, then by ID.
func (t *Tally) Rules() []RuleTally {
	out := make([]RuleTally, 0, len(t.rules))
	for _, rt := range t.rules {
		out = append(out, *rt)
	}
	slices.SortFunc(out, func(a, b RuleTally) int {
		return cmp.Or(cmp.Compare(b.Fail, a.Fail), cmp.Compare(b.Error, a.Error), cmp.Compare(b.Warn, a.Warn), cmp.Compare(a.Rule, b.Rule))
	})
	return out
}

// WriteTable writes the batch table: one row per image, sorted by path,
// with its OS, release, PASS/WARN/FAIL/ERROR counts, virtual disk size and
// verdict; then the reason of each image that is an error; then a totals
// line.
func (t *Tally) WriteTable(w io.Writer, o Options) error {
	rows := slices.Clone(t.rows)
	slices.SortStableFunc(rows, func(a, b tallyRow) int { return cmp.Compare(a.path, b.path) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tOS\tRELEASE\tPASS\tWARN\tFAIL\tERROR\tDISK\tVERDICT")
	verdicts := map[Verdict]int{}
	for _, r := range rows {
		verdicts[r.verdict]++
		disk := "-"
		if r.disk > 0 {
			disk = fmt.Sprintf("%.2f GiB", float64(r.disk)/(1<<30))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", Escape(r.path), dash(Escape(r.os)), dash(Escape(r.release)),
			r.counts.Pass, r.counts.Warn, r.counts.Fail, r.counts.Error, disk, o.verdictText(r.verdict))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.reason != "" {
			fmt.Fprintf(w, "%s: %s\n", Escape(r.path), r.reason)
		}
	}
	_, err := fmt.Fprintf(w, "%d images: %d pass, %d warn, %d fail, %d error\n", len(rows),
		verdicts[VerdictPass], verdicts[VerdictWarn], verdicts[VerdictFail], verdicts[VerdictError])
	return err
}

// WriteRules writes the cross-image summary: per rule that found
// something, how many images it failed, errored and warned, worst first.
// It writes nothing when no rule did.
func (t *Tally) WriteRules(w io.Writer) error {
	rs := t.Rules()
	if len(rs) == 0 {
		return nil
	}
	fmt.Fprintf(w, "Images per rule (of %d):\n", len(t.rows))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tFAIL\tERROR\tWARN")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", r.Rule, r.Fail, r.Error, r.Warn)
	}
	return tw.Flush()
}
