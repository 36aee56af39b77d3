package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck/rules"
)

func newRulesCmd(g *globalOptions) *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List every rule with its title and profiles",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if markdown {
				return rulesMarkdown(g.stdout, rules.All())
			}
			return rulesTable(g.stdout, rules.All())
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print a Markdown table for the README")
	return cmd
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
	if r.Family == rules.Any {
		return "any"
	}
	return string(r.Family)
}

func rulesTable(w io.Writer, rs []rules.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tPROFILES\tFAMILY\tTITLE")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, ruleProfiles(r), ruleFamily(r), r.Title)
	}
	return tw.Flush()
}

func rulesMarkdown(w io.Writer, rs []rules.Rule) error {
	var b strings.Builder
	b.WriteString("| Rule | Profiles | Family | What it checks |\n|---|---|---|---|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.ID, ruleProfiles(r), ruleFamily(r), strings.ReplaceAll(r.Title, "|", `\|`))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
