package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck/rules/report"
)

// newReportCmd builds `imgcheck report html|markdown|merge RESULTS...`.
func newReportCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Turn scan results (JSON, JSONL, directories, s3:// prefixes) into a page, a summary or one result set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("report: name a subcommand: html, markdown or merge")
		},
	}
	var out string
	html := &cobra.Command{
		Use:   "html RESULTS... [-o FILE]",
		Short: "Write one self-contained offline HTML page over the results",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeReport(cmd.Context(), g, args, out, func(w io.Writer, ls []report.Line) error {
				return report.HTML(w, ls, report.Options{Version: toolVersion()})
			})
		},
	}
	html.Flags().StringVarP(&out, "output", "o", "", "write the page to `FILE` (default stdout)")
	markdown := &cobra.Command{
		Use:   "markdown RESULTS...",
		Short: "Write a compact Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeReport(cmd.Context(), g, args, "", func(w io.Writer, ls []report.Line) error {
				return report.Markdown(w, ls, report.Options{Version: toolVersion()})
			})
		},
	}
	var mergeOut string
	merge := &cobra.Command{
		Use:   "merge SHARDS... [-o FILE]",
		Short: "Join the results of the shards of a batch into one JSONL result set; the same image twice is an error",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeReport(cmd.Context(), g, args, mergeOut, func(w io.Writer, ls []report.Line) error {
				for _, l := range ls {
					if err := report.JSONLine(w, l, report.Options{Version: toolVersion()}); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	merge.Flags().StringVarP(&mergeOut, "output", "o", "", "write the merged JSONL to `FILE` (default stdout)")
	cmd.AddCommand(html, markdown, merge)
	return cmd
}

// writeReport reads the result sets, merges them (refusing duplicates)
// and writes them with write to out, or stdout when out is "".
func writeReport(ctx context.Context, g *globalOptions, inputs []string, out string, write func(io.Writer, []report.Line) error) error {
	lines, err := readResultSets(ctx, g, inputs)
	if err != nil {
		return err
	}
	if lines, err = report.Merge(lines); err != nil {
		return err
	}
	if out == "" || out == "-" {
		return write(g.stdout, lines)
	}
	return writeFile(out, func(w io.Writer) error { return write(w, lines) })
}

// readResultSets reads every input: a JSON or JSONL file ("-" for stdin),
// a directory or an s3://bucket/prefix/ (its *.jsonl results, or its
// *.json ones when there are none, batch files left out), or an
// s3://bucket/key object.
func readResultSets(ctx context.Context, g *globalOptions, inputs []string) ([]report.Line, error) {
	var lines []report.Line
	add := func(name string, data []byte) error {
		err := report.ReadResults(bytes.NewReader(data), func(l report.Line) error {
			lines = append(lines, l)
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	for _, in := range inputs {
		isS3 := strings.HasPrefix(strings.ToLower(in), "s3://")
		if in == "-" {
			data, err := readCappedFrom(os.Stdin, "stdin")
			if err == nil {
				err = add("stdin", data)
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		if st, err := os.Stat(in); !isS3 && err == nil && !st.IsDir() {
			data, err := readCapped(in)
			if err == nil {
				err = add(in, data)
			}
			if err != nil {
				return nil, err
			}
			continue
		} else if !isS3 && err != nil {
			return nil, &usageError{err}
		}
		if isS3 && !strings.HasSuffix(in, "/") && path.Ext(in) != "" {
			dir, name := path.Split(in)
			store, err := openStore(ctx, dir, g.remote, false)
			if err != nil {
				return nil, err
			}
			data, err := store.get(ctx, name)
			if err == nil {
				err = add(in, data)
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		store, err := openStore(ctx, in, g.remote, false)
		if err != nil {
			return nil, err
		}
		names, err := store.list(ctx)
		if err != nil {
			return nil, err
		}
		picked := resultFiles(names)
		if len(picked) == 0 {
			return nil, usagef("%s: no *.jsonl or *.json results", in)
		}
		for _, n := range picked {
			data, err := store.get(ctx, n)
			if err == nil {
				err = add(store.String()+"/"+n, data)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return lines, nil
}

// resultFiles picks the per-image results of an --output-dir listing: the
// *.jsonl files, or the *.json ones when there are none; batch files
// (batch*.json*) are left out, since they repeat the per-image ones.
func resultFiles(names []string) []string {
	for _, ext := range []string{".jsonl", ".json"} {
		var out []string
		for _, n := range names {
			if path.Ext(n) == ext && !strings.HasPrefix(n, "batch") {
				out = append(out, n)
			}
		}
		if len(out) > 0 {
			slices.Sort(out)
			return out
		}
	}
	return nil
}
