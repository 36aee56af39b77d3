package report

import (
	"io"
	"strings"
)

// Summary writes the batch table (Tally.WriteTable) and, after a blank
// line, the cross-image rule summary (Tally.WriteRules).
func Summary(w io.Writer, reports []Image, o Options) error {
	var t Tally
	for i := range reports {
		t.Add(&reports[i])
	}
	if err := t.WriteTable(w, o); err != nil {
		return err
	}
	if len(t.Rules()) == 0 {
		return nil
	}
	io.WriteString(w, "\n")
	return t.WriteRules(w)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (o Options) verdictText(v Verdict) string {
	s := strings.ToUpper(string(v))
	if !o.Color {
		return s
	}
	lv := map[Verdict]string{VerdictPass: "32", VerdictWarn: "33", VerdictFail: "1;31", VerdictError: "1;35"}[v]
	return "\x1b[" + lv + "m" + s + "\x1b[0m"
}
