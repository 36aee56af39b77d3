package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
)

// textOrder is the order of the level groups in a text report.
var textOrder = []rules.Level{rules.Fail, rules.Error, rules.Warn, rules.Info, rules.Skip, rules.Pass}

// ANSI colours of the level tags.
var levelColor = map[rules.Level]string{
	rules.Fail:  "1;31",
	rules.Error: "1;35",
	rules.Warn:  "33",
	rules.Info:  "36",
	rules.Skip:  "2",
	rules.Pass:  "32",
}

// Text writes the marketplace report of each image: a header, the findings
// grouped by level (FAIL, ERROR, WARN, and with Verbose INFO, SKIP, PASS),
// each with its evidence and fix, then a one-line summary; with Quiet only
// the summary. The guest rules that could not run for want of a readable
// root filesystem are said once, not once per rule.
func Text(w io.Writer, reports []Image, o Options) error {
	bw := bufio.NewWriter(w)
	for i := range reports {
		if i > 0 {
			bw.WriteString("\n")
		}
		writeText(bw, &reports[i], o)
	}
	return bw.Flush()
}

func writeText(w *bufio.Writer, im *Image, o Options) {
	p := func(format string, a ...any) { w.WriteString(rules.Redact(fmt.Sprintf(format, a...))) }
	if o.Verbosity <= Quiet {
		p("%s\n", summaryLine(im))
		return
	}
	p("imgcheck %s: %s (%s profile)\n", o.versionText(), Escape(im.Path), profileName(im.Profile))
	if im.SHA256 != "" {
		p("SHA-256: %s\n", im.SHA256)
	}
	if c := containerText(im); c != "" {
		p("Disk:    %s\n", c)
	}
	if s := osText(im.OS); s != "" {
		p("OS:      %s\n", Escape(s))
	}
	if im.RootError != "" {
		p("Root:    none: %s\n", oneLine(im.RootError))
	}
	if im.Err != nil {
		p("\n%s %s\n", o.tag(rules.Error), oneLine(im.Err.Error()))
	}
	findings := im.findings()
	hidden := map[rules.Level]int{}
	for _, lv := range textOrder {
		if lv < rules.Warn && o.Verbosity < Verbose {
			for f := range findings {
				if f.Level == lv {
					hidden[lv]++
				}
			}
			continue
		}
		first := true
		unevaluated := 0
		for f := range findings {
			if f.Level != lv {
				continue
			}
			if first {
				p("\n%s\n", strings.ToUpper(lv.String()))
				first = false
			}
			if im.RootError != "" && noGuest(f) {
				unevaluated++
				continue
			}
			writeFinding(w, f, o)
			if o.ShowContents {
				writeContents(w, im.Contents, f)
			}
		}
		if unevaluated > 0 {
			p("%s %d guest rules not evaluated: no readable root filesystem (Root: above says why)\n", o.tag(rules.Error), unevaluated)
		}
	}
	if n := hidden[rules.Info] + hidden[rules.Skip] + hidden[rules.Pass]; n > 0 {
		p("\n(%d INFO, %d SKIP, %d PASS not shown; -v shows them)\n", hidden[rules.Info], hidden[rules.Skip], hidden[rules.Pass])
	}
	for _, wv := range im.ExpiredWaivers {
		p("\nexpired waiver: %s (expired %s): %s\n", Escape(wv.describe()), wv.Expires.Format(dateLayout), oneLine(wv.Reason))
	}
	p("\n%s\n", summaryLine(im))
}

func writeFinding(w *bufio.Writer, f rules.Finding, o Options) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", o.tag(f.Level), f.Rule, oneLine(f.Message))
	if f.Approximate {
		b.WriteString(" (approximate)")
	}
	if f.Waived {
		fmt.Fprintf(&b, " [waived: %s]", oneLine(f.WaiverReason))
	}
	b.WriteString("\n")
	const indent = "        "
	if ev := evidenceText(f); ev != "" {
		b.WriteString(indent + ev + "\n")
	}
	if f.SkipReason != "" {
		b.WriteString(indent + "skip: " + oneLine(f.SkipReason) + "\n")
	}
	if f.Fix != "" {
		b.WriteString(indent + "fix: " + oneLine(f.Fix) + "\n")
	}
	w.WriteString(rules.Redact(b.String()))
}

// noGuest reports whether f is the ERROR of a guest rule that could not
// run because the image has no readable root filesystem.
func noGuest(f rules.Finding) bool {
	return f.Level == rules.Error && f.Get(rules.KeyReason) == facts.ErrNoGuest.Error()
}

// evidenceText formats evidence as key=value pairs, quoting values that
// contain blanks or quotes.
func evidenceText(f rules.Finding) string {
	parts := make([]string, 0, len(f.Evidence)+1)
	if f.Subject != "" && f.Get(rules.KeyPath) != f.Subject && f.Get(rules.KeyUser) != f.Subject && f.Get(rules.KeyPackage) != f.Subject {
		parts = append(parts, "subject="+quoteIfNeeded(f.Subject))
	}
	for _, kv := range f.Evidence {
		parts = append(parts, kv.Key+"="+quoteIfNeeded(kv.Value))
	}
	return strings.Join(parts, " ")
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'\\=") || !strconv.CanBackquote(s) {
		return strconv.Quote(s)
	}
	return s
}

// oneLine keeps a message on one line: it trims it and escapes the rest
// (Escape, a newline becomes a visible "\n"), so that a hostile file
// name cannot move the cursor, recolour a terminal or start a line of its
// own.
func oneLine(s string) string { return Escape(strings.TrimSpace(s)) }

func (o Options) tag(l rules.Level) string {
	t := l.Tag()
	if !o.Color {
		return t
	}
	return "\x1b[" + levelColor[l] + "m" + t + "\x1b[0m"
}

func (o Options) versionText() string {
	if o.Version == "" {
		return "(devel)"
	}
	return o.Version
}

func profileName(p rules.Profile) string {
	if p == "" {
		return string(rules.Marketplace)
	}
	return string(p)
}

// summaryLine is the one-line summary closing a text report.
func summaryLine(im *Image) string {
	c := im.Count()
	s := fmt.Sprintf("%s: %s: %d FAIL, %d ERROR, %d WARN, %d INFO, %d SKIP, %d PASS",
		Escape(im.Path), strings.ToUpper(string(im.Verdict())), c.Fail, c.Error, c.Warn, c.Info, c.Skip, c.Pass)
	if c.Waived > 0 {
		s += fmt.Sprintf(" (%d waived)", c.Waived)
	}
	return s
}

// containerText describes the container chain and sizes in one line.
func containerText(im *Image) string {
	var parts []string
	if len(im.Container) > 0 {
		chain := make([]string, len(im.Container))
		for i, l := range im.Container {
			switch {
			case strings.HasPrefix(l.Detail, l.Format):
				chain[i] = l.Detail
			case l.Detail != "":
				chain[i] = l.Format + " (" + l.Detail + ")"
			default:
				chain[i] = l.Format
			}
		}
		parts = append(parts, strings.Join(chain, " > "))
	}
	if im.VirtualSize > 0 {
		parts = append(parts, "virtual "+sizeText(im.VirtualSize))
	}
	if im.AllocatedSize >= 0 && len(im.Container) > 0 {
		parts = append(parts, "allocated "+sizeText(im.AllocatedSize))
	}
	if im.Table != nil {
		parts = append(parts, fmt.Sprintf("%s, %d partitions", im.Table.Scheme, len(im.Table.Partitions)))
	}
	return strings.Join(parts, ", ")
}

func osText(o OS) string {
	name := o.PrettyName
	if name == "" {
		name = strings.TrimSpace(o.Name + " " + o.VersionID)
	}
	if name != "" && o.Family != "" {
		name += " (" + o.Family + ")"
	}
	return name
}

// sizeText prints a size as exact bytes, GB and GiB.
func sizeText(n int64) string {
	return fmt.Sprintf("%d bytes (%.2f GB, %.2f GiB)", n, float64(n)/1e9, float64(n)/(1<<30))
}
