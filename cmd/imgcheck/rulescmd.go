package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
	"github.com/imgcheck/imgcheck/rules/report"
)

func newRulesCmd(g *globalOptions) *cobra.Command {
	var markdown bool
	var format string
	cmd := &cobra.Command{
		Use:   "rules [--format text|json|markdown|reference]",
		Short: "List every rule with its title and profiles; 'rules explain ID' describes one",
		Long: "List every rule. --format json lists id, title, profiles, family, levels and help URI for tools;\n" +
			"--format markdown prints the README's table; --format reference prints docs/rules.md.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if markdown {
				format = "markdown"
			}
			all := catalogue()
			switch format {
			case "text", "":
				return rulesTable(g.stdout, all)
			case "markdown":
				return rulesMarkdown(g.stdout, all)
			case "json":
				return rulesJSON(g.stdout, all)
			case "reference":
				return rulesReference(g.stdout, all)
			}
			return usagef("--format %q: want text, json, markdown or reference", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output `FORMAT`: text, json, markdown (the README table) or reference (docs/rules.md)")
	cmd.Flags().BoolVar(&markdown, "markdown", false, "same as --format markdown")
	completeValues(cmd, "format", "text", "json", "markdown", "reference")
	explain := &cobra.Command{
		Use:   "explain ID",
		Short: "Describe a rule: what it checks, why it matters, levels, evidence, fix, img_check.sh counterpart",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("expected 1 argument (a rule ID, see 'imgcheck rules'), got %d", len(args))
			}
			return nil
		},
		ValidArgsFunction: completeRuleIDs,
		RunE: func(_ *cobra.Command, args []string) error {
			for _, e := range catalogue() {
				if e.ID == args[0] {
					return writeRuleSection(g.stdout, e)
				}
			}
			return usagef("unknown rule %q (see 'imgcheck rules')", args[0])
		},
	}
	cmd.AddCommand(explain)
	return cmd
}

// entry is one rule of the catalogue with its reference text.
type entry struct {
	rules.Rule
	Doc rules.Doc
}

// catalogue returns every rule in catalogue order, then the
// image.unreadable pseudo-rule that reports use for an image that could
// not be scanned.
func catalogue() []entry {
	var out []entry
	for _, r := range rules.All() {
		d, _ := rules.LookupDoc(r.ID)
		out = append(out, entry{r, d})
	}
	d, _ := rules.LookupDoc(report.ImageUnreadable)
	unreadable := rules.Rule{ID: report.ImageUnreadable, Title: report.ImageUnreadableTitle, Profiles: []rules.Profile{rules.Marketplace, rules.ImgCheck}}
	return append(out, entry{unreadable, d})
}

func ruleProfiles(r rules.Rule) string {
	ps := make([]string, len(r.Profiles))
	for i, p := range r.Profiles {
		ps[i] = string(p)
	}
	s := strings.Join(ps, ",")
	if r.Off {
		s += " (off by default)"
	}
	return s
}

func ruleFamily(r rules.Rule) string {
	if r.Family == facts.Any {
		return "any"
	}
	return string(r.Family)
}

func rulesTable(w io.Writer, es []entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tPROFILES\tFAMILY\tTITLE")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.ID, ruleProfiles(e.Rule), ruleFamily(e.Rule), e.Title)
	}
	return tw.Flush()
}

func rulesMarkdown(w io.Writer, es []entry) error {
	var b strings.Builder
	b.WriteString("| Rule | Profiles | Family | What it checks |\n|---|---|---|---|\n")
	for _, e := range es {
		fmt.Fprintf(&b, "| [`%s`](docs/rules.md#%s) | %s | %s | %s |\n", e.ID, anchor(e.ID), ruleProfiles(e.Rule), ruleFamily(e.Rule), mdCell(e.Title))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ruleJSON is one rule in `rules --format json`.
type ruleJSON struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Profiles []string `json:"profiles"`
	Family   string   `json:"family"`
	Off      bool     `json:"off_by_default"`
	Levels   []string `json:"levels"`
	HelpURI  string   `json:"help_uri"`
	Why      string   `json:"why"`
	Evidence []string `json:"evidence"`
	Fix      string   `json:"fix"`
	ImgCheck string   `json:"img_check"`
}

func rulesJSON(w io.Writer, es []entry) error {
	out := []ruleJSON{}
	for _, e := range es {
		j := ruleJSON{ID: e.ID, Title: e.Title, Family: ruleFamily(e.Rule), Off: e.Off, HelpURI: report.RuleDocURI(e.ID),
			Why: e.Doc.Why, Evidence: e.Doc.Evidence, Fix: e.Doc.Fix, ImgCheck: e.Doc.ImgCheck, Levels: []string{}}
		for _, p := range e.Profiles {
			j.Profiles = append(j.Profiles, string(p))
		}
		for _, l := range e.Doc.Levels {
			j.Levels = append(j.Levels, strings.ToLower(l.Level))
		}
		if j.Evidence == nil {
			j.Evidence = []string{}
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// rulesReference writes docs/rules.md: an index, then a section per rule.
func rulesReference(w io.Writer, es []entry) error {
	var b strings.Builder
	b.WriteString("# imgcheck rule reference\n\n")
	b.WriteString("<!-- Generated by `imgcheck rules --format reference` from rules/reference.yaml; a test keeps it equal. -->\n\n")
	b.WriteString("Every rule imgcheck runs: what it checks, why DigitalOcean cares, when it gives each level, the\n" +
		"evidence its findings carry, how to fix it, and what DigitalOcean's `img_check.sh` v1.8.1 does instead.\n" +
		"`imgcheck rules explain ID` prints one section. Levels: FAIL blocks a submission, WARN needs a look,\n" +
		"ERROR means the rule could not read what it needs, INFO and SKIP are for the record.\n\n")
	b.WriteString("| Rule | Profiles | What it checks |\n|---|---|---|\n")
	for _, e := range es {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", e.ID, anchor(e.ID), ruleProfiles(e.Rule), mdCell(e.Title))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	for _, e := range es {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
		if err := writeRuleSection(w, e); err != nil {
			return err
		}
	}
	return nil
}

// writeRuleSection writes one rule's section of the reference.
func writeRuleSection(w io.Writer, e entry) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## `%s`\n\n%s.\n\n", e.ID, strings.TrimSuffix(e.Title, "."))
	fmt.Fprintf(&b, "Profiles: %s. OS family: %s.\n\n", ruleProfiles(e.Rule), ruleFamily(e.Rule))
	d := e.Doc
	if d.Why != "" {
		fmt.Fprintf(&b, "**Why it matters.** %s\n\n", d.Why)
	}
	if len(d.Levels) > 0 {
		b.WriteString("| Level | When |\n|---|---|\n")
		for _, l := range d.Levels {
			fmt.Fprintf(&b, "| %s | %s |\n", l.Level, mdCell(l.When))
		}
		b.WriteString("\n")
	}
	if len(d.Evidence) > 0 {
		b.WriteString("**Evidence.** ")
		for i, k := range d.Evidence {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`" + k + "`")
		}
		b.WriteString("\n\n")
	}
	if d.Fix != "" {
		fmt.Fprintf(&b, "**Fix.** %s\n\n", d.Fix)
	}
	if d.ImgCheck != "" {
		fmt.Fprintf(&b, "**img_check.sh.** %s\n", d.ImgCheck)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// anchor is the GitHub heading anchor of a rule's section: "## `ssh.authorized-keys`" → "sshauthorized-keys".
func anchor(id string) string { return strings.ReplaceAll(id, ".", "") }

// mdCell escapes a table cell.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
