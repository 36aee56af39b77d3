package report

import (
	"fmt"
	"io"
	"strings"
)

// Markdown writes a compact summary of a result set for
// $GITHUB_STEP_SUMMARY or a pull-request comment: the totals, a table of
// the images that need action (all images when none does) and the rules
// that found something. Guest-derived text is escaped so that it renders
// as text: no links, emphasis, HTML or broken table cells.
func Markdown(w io.Writer, lines []Line, o Options) error {
	ims := make([]Image, len(lines))
	var t Tally
	for i, l := range lines {
		ims[i] = *l.Image
		t.Add(&ims[i])
	}
	tot := totals(ims)
	fmt.Fprintf(w, "### imgcheck: %s\n\n", strings.ToUpper(string(tot.Verdict)))
	fmt.Fprintf(w, "%d images: %d fail, %d error, %d warn, %d pass (%d FAIL, %d ERROR, %d WARN findings)\n\n", tot.Images,
		tot.Verdicts[VerdictFail], tot.Verdicts[VerdictError], tot.Verdicts[VerdictWarn], tot.Verdicts[VerdictPass],
		tot.Counts.Fail, tot.Counts.Error, tot.Counts.Warn)
	act := tot.Verdicts[VerdictFail] + tot.Verdicts[VerdictError] + tot.Verdicts[VerdictWarn]
	io.WriteString(w, "| Image | Verdict | OS | FAIL | ERROR | WARN | Worst finding |\n|---|---|---|--:|--:|--:|---|\n")
	for i := range ims {
		im := &ims[i]
		v := im.Verdict()
		if act > 0 && v == VerdictPass {
			continue
		}
		c := im.Count()
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | %s |\n", mdText(im.Path), strings.ToUpper(string(v)), mdText(osText(im.OS)),
			c.Fail, c.Error, c.Warn, mdText(worstFinding(im)))
	}
	if act > 0 && tot.Verdicts[VerdictPass] > 0 {
		fmt.Fprintf(w, "\n%d passing images not listed.\n", tot.Verdicts[VerdictPass])
	}
	if rs := t.Rules(); len(rs) > 0 {
		io.WriteString(w, "\n| Rule | FAIL | ERROR | WARN |\n|---|--:|--:|--:|\n")
		for _, r := range rs {
			fmt.Fprintf(w, "| [`%s`](%s) | %d | %d | %d |\n", r.Rule, RuleDocURI(r.Rule), r.Fail, r.Error, r.Warn)
		}
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// worstFinding is "rule: message" of the image's first FAIL, else ERROR,
// else WARN that is not waived, or its scan error.
func worstFinding(im *Image) string {
	if im.Err != nil {
		return oneLine(im.Err.Error())
	}
	best, rank := "", 0
	for f := range im.findings() {
		if r := levelRank(f.Level); !f.Waived && r > rank {
			best, rank = f.Rule+": "+oneLine(f.Message), r
		}
	}
	return best
}

// mdText escapes s for a Markdown table cell: control characters shown,
// HTML and Markdown punctuation escaped, one line.
func mdText(s string) string {
	s = oneLine(plain(s))
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '|':
			b.WriteString(`\|`)
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '!', '~', '{', '}', '+', '-', '.', ':', '@', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
