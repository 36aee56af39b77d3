package main

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// output is one requested report: a format written to a file, or to
// stdout when file is empty (into --output-dir, with one).
type output struct {
	format string
	file   string
}

// formatExt is the file extension of each format's per-image file in
// --output-dir.
var formatExt = map[string]string{"text": ".txt", "json": ".json", "jsonl": ".jsonl", "sarif": ".sarif", "junit": ".xml"}

// batchFile is the name of each format's whole-batch file in --output-dir.
var batchFile = map[string]string{"text": "batch.txt", "json": "batch.json", "jsonl": "batch.jsonl", "sarif": "batch.sarif", "junit": "junit.xml"}

// parseOutputs reads the --format values ("json", "json=out.json"). At
// most one format goes to stdout. With --output-dir, a format without a
// file goes there instead (a file per image plus a batch file) and stdout
// gets the summary table. With no format at all, text goes to stdout, or
// text and JSON into --output-dir.
func parseOutputs(specs []string, outputDir string) ([]output, error) {
	var outs []output
	stdout := 0
	for _, s := range specs {
		name, file, _ := strings.Cut(s, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if _, ok := formatExt[name]; !ok {
			return nil, usagef("--format %q: want text, json, jsonl, sarif or junit, optionally =FILE", s)
		}
		if file == "" || file == "-" {
			file = ""
			stdout++
		}
		outs = append(outs, output{name, file})
	}
	if stdout > 1 && outputDir == "" {
		return nil, usagef("only one --format can go to stdout; give the others a file (--format json=out.json) or use --output-dir")
	}
	if len(outs) == 0 {
		outs = []output{{format: "text"}}
		if outputDir != "" {
			outs = append(outs, output{format: "json"})
		}
	}
	return outs, nil
}

// render writes reports in one format. Text of one img_check image is the
// script's frame; text of several images is each report then the table.
func render(w io.Writer, format string, reports []report.Image, o report.Options, toStdout bool) error {
	switch format {
	case "json":
		return report.JSON(w, reports, o)
	case "jsonl":
		return report.JSONL(w, reports, o)
	case "sarif":
		return report.SARIF(w, reports, o)
	case "junit":
		return report.JUnit(w, reports, o)
	}
	if toStdout && len(reports) > 1 {
		return report.Summary(w, reports, o)
	}
	for i := range reports {
		if i > 0 {
			io.WriteString(w, "\n")
		}
		if err := renderText(w, &reports[i], o); err != nil {
			return err
		}
	}
	if len(reports) > 1 {
		io.WriteString(w, "\n")
		return report.Summary(w, reports, o)
	}
	return nil
}

// renderText writes the text report of one image in its profile's shape.
func renderText(w io.Writer, im *report.Image, o report.Options) error {
	if im.Profile == rules.ImgCheck && im.Err == nil {
		return renderImgCheck(w, im, o)
	}
	return report.Text(w, []report.Image{*im}, o)
}

// renderImgCheck writes the img_check.sh frame of one image.
func renderImgCheck(w io.Writer, im *report.Image, o report.Options) error {
	return report.ImgCheck(w, im.Results, report.ImgCheckOptions{
		Color:        o.Color,
		ShowContents: o.ShowContents,
		Contents:     im.Contents,
		Now:          time.Now(),
	})
}

// unsafeName is compiled on first use: only --output-dir needs it.
var unsafeName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// outputNames gives each target a distinct file name stem for
// --output-dir: its base name, made safe, with a counter when two targets
// share it. The names are decided over the whole list, so every shard of
// a sharded run names an image alike; "batch" and "junit" are kept for the
// batch files.
func outputNames(targets []string) []string {
	names := make([]string, len(targets))
	seen := map[string]int{"batch": 1, "junit": 1}
	for i, t := range targets {
		base := unsafeName().ReplaceAllString(path.Base(filepath.ToSlash(imgcheck.DisplayName(t))), "_")
		if u, err := url.Parse(imgcheck.DisplayName(t)); err == nil && imgcheck.IsRemote(t) {
			base = unsafeName().ReplaceAllString(path.Base(u.Path), "_")
		}
		if base == "" || base == "." || base == ".." || base == "/" {
			base = "image"
		}
		seen[base]++
		if n := seen[base]; n > 1 {
			base = fmt.Sprintf("%s-%d", base, n)
		}
		names[i] = base
	}
	return names
}

// writeFile renders into memory and writes the file in one go, so a failed
// render leaves no half-written report.
func writeFile(name string, fill func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := fill(&buf); err != nil {
		return err
	}
	return os.WriteFile(name, buf.Bytes(), 0o644)
}
