package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/imgcheck/imgcheck/rules"
)

//go:embed html.tmpl
var htmlTemplate string

// htmlPage is parsed on first use, so that runs without an HTML report
// do not pay for it at start-up.
var htmlPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(htmlTemplate))
})

// htmlView is what the page shows, every guest-derived string already
// redacted and stripped of control characters; html/template escapes
// them for their context.
type htmlView struct {
	Title, Version, Generated string
	Totals                    jsonTotals
	Verdicts                  struct{ Fail, Error, Warn, Pass int }
	Rules                     []htmlRule
	Images                    []htmlImage
}

type htmlRule struct {
	ID, Title, Doc    string
	Fail, Error, Warn int
	Cells             []string // level class per image, in image order
}

type htmlImage struct {
	Anchor, Path, Verdict, OS, Container, Size, Reason string
	SizeBytes                                          int64
	Counts                                             Counts
	Resumed                                            bool
	Findings, Quiet                                    []htmlFinding // FAIL/ERROR/WARN/INFO; PASS/SKIP
}

type htmlFinding struct {
	Level, Rule, Doc, Message, Subject, Fix, Note string
	Evidence                                      []rules.KV
}

// HTML writes a self-contained, offline page over a result set: totals,
// a rule × image matrix, a sortable and filterable image table and a
// section per image with each finding's evidence, fix and rule
// reference. It needs no network and reads well without JavaScript
// (static tables, <details> sections) and on paper.
func HTML(w io.Writer, lines []Line, o Options) error {
	v := htmlView{Title: "imgcheck audit", Version: o.versionText(), Generated: o.now().UTC().Format(time.RFC3339)}
	ims := make([]Image, len(lines))
	for i, l := range lines {
		ims[i] = *l.Image
	}
	v.Totals = totals(ims)
	vs := v.Totals.Verdicts
	v.Verdicts.Fail, v.Verdicts.Error, v.Verdicts.Warn, v.Verdicts.Pass = vs[VerdictFail], vs[VerdictError], vs[VerdictWarn], vs[VerdictPass]
	var t Tally
	for i := range ims {
		t.Add(&ims[i])
	}
	worst := make([]map[string]rules.Level, len(ims))
	for i := range ims {
		worst[i] = worstLevels(&ims[i])
	}
	for _, rt := range t.Rules() {
		r := htmlRule{ID: rt.Rule, Title: rt.Rule, Doc: RuleDocURI(rt.Rule), Fail: rt.Fail, Error: rt.Error, Warn: rt.Warn}
		if rr, ok := rules.Lookup(rt.Rule); ok && rr.Title != "" {
			r.Title = rr.Title
		} else if t, ok := pseudoRuleTitles[rt.Rule]; ok {
			r.Title = t
		}
		for i := range ims {
			lv, ok := worst[i][rt.Rule]
			switch {
			case !ok:
				r.Cells = append(r.Cells, "none")
			default:
				r.Cells = append(r.Cells, lv.String())
			}
		}
		v.Rules = append(v.Rules, r)
	}
	for i, l := range lines {
		v.Images = append(v.Images, htmlImageOf(&ims[i], i, l.Resumed))
	}
	return htmlPage().Execute(w, v)
}

// worstLevels is the worst level of each rule of im, waived findings left
// out; an image that could not be read is ERROR under ImageUnreadable, and
// the guest rules that could not run for want of a root filesystem are one
// ERROR under ImageNoRoot, not one per rule.
func worstLevels(im *Image) map[string]rules.Level {
	out := map[string]rules.Level{}
	if im.Err != nil {
		out[ImageUnreadable] = rules.Error
	}
	for f := range im.findings() {
		if f.Waived {
			continue
		}
		id := f.Rule
		if noGuest(f) {
			id = ImageNoRoot
		}
		if old, ok := out[id]; !ok || levelRank(f.Level) > levelRank(old) {
			out[id] = f.Level
		}
	}
	return out
}

func htmlImageOf(im *Image, i int, resumed bool) htmlImage {
	h := htmlImage{
		Anchor: fmt.Sprintf("img-%d", i), Path: plain(im.Path), Verdict: string(im.Verdict()), OS: plain(osText(im.OS)),
		Container: plain(containerText(im)), SizeBytes: im.VirtualSize, Counts: im.Count(), Resumed: resumed,
	}
	if im.VirtualSize > 0 {
		h.Size = fmt.Sprintf("%.2f GiB", float64(im.VirtualSize)/(1<<30))
	}
	if h.Verdict == string(VerdictError) {
		h.Reason = plain(errorReason(im))
	}
	for f := range im.findings() {
		hf := htmlFinding{Level: f.Level.String(), Rule: f.Rule, Doc: RuleDocURI(f.Rule), Message: plain(f.Message),
			Subject: plain(f.Subject), Fix: plain(f.Fix)}
		for _, kv := range f.Evidence {
			hf.Evidence = append(hf.Evidence, rules.KV{Key: plain(kv.Key), Value: plain(kv.Value)})
		}
		if f.Waived {
			hf.Note = "waived: " + plain(f.WaiverReason)
		} else if f.Approximate {
			hf.Note = "approximate"
		}
		if f.Level == rules.Pass || f.Level == rules.Skip {
			h.Quiet = append(h.Quiet, hf)
		} else {
			h.Findings = append(h.Findings, hf)
		}
	}
	return h
}

// plain redacts s and shows its control characters (ANSI escapes,
// carriage returns) as visible \xNN text instead of passing them on.
func plain(s string) string {
	s = rules.Redact(s)
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool {
	return r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029')
}
