package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// newWaiversCmd builds `imgcheck waivers init RESULTS...`.
func newWaiversCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "waivers",
		Short: "Manage waivers files",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return usagef("waivers: name a subcommand: init") },
	}
	expires := "90d"
	initCmd := &cobra.Command{
		Use:   "init RESULTS... > waivers.yaml",
		Short: "Write a baseline waivers file: one waiver per current WARN and FAIL, with a reason to fill in and an expiry date",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			exp, err := parseExpiry(expires, time.Now())
			if err != nil {
				return err
			}
			lines, err := readResultSets(cmd.Context(), g, args)
			if err != nil {
				return err
			}
			return writeBaseline(g.stdout, lines, exp)
		},
	}
	initCmd.Flags().StringVar(&expires, "expires", expires, "expiry `DATE` (YYYY-MM-DD) or number of days from today (90d)")
	cmd.AddCommand(initCmd)
	return cmd
}

// parseExpiry reads YYYY-MM-DD, or Nd days after now.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	var days int
	if _, err := fmt.Sscanf(s, "%dd", &days); err == nil && strings.HasSuffix(s, "d") && days > 0 {
		return now.UTC().AddDate(0, 0, days).Truncate(24 * time.Hour), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, usagef("--expires %q: want a date (YYYY-MM-DD) or a number of days (90d)", s)
	}
	if !t.After(now) {
		return time.Time{}, usagef("--expires %s is not in the future", s)
	}
	return t, nil
}

// baselineWaiver is one entry of the waivers file report.ParseWaivers reads.
type baselineWaiver struct {
	Rule    string `yaml:"rule"`
	Image   string `yaml:"image"`
	Subject string `yaml:"subject,omitempty"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"`
}

// writeBaseline writes a waiver for every WARN and FAIL finding not
// already waived, matching exactly its image and subject (glob
// characters escaped), each with a reason to replace.
func writeBaseline(w io.Writer, lines []report.Line, expires time.Time) error {
	var doc struct {
		Waivers []baselineWaiver `yaml:"waivers"`
	}
	seen := map[baselineWaiver]bool{}
	for _, l := range lines {
		for _, f := range l.Image.Findings() {
			if f.Waived || (f.Level != rules.Warn && f.Level != rules.Fail) {
				continue
			}
			bw := baselineWaiver{Rule: f.Rule, Image: globEscape(l.Image.Path), Subject: globEscape(f.Subject),
				Reason: "TODO: why " + f.Level.String() + " is accepted here", Expires: expires.Format("2006-01-02")}
			if !seen[bw] {
				seen[bw] = true
				doc.Waivers = append(doc.Waivers, bw)
			}
		}
	}
	fmt.Fprintf(w, "# imgcheck waivers baseline: %d findings accepted until %s.\n# Replace each TODO reason, or delete the waiver and fix the image.\n",
		len(doc.Waivers), expires.Format("2006-01-02"))
	if doc.Waivers == nil {
		doc.Waivers = []baselineWaiver{}
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// globEscape makes s match itself only under path.Match.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}
