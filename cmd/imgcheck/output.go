package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// output is one requested report: a format written to a file, or to
// stdout when file is empty.
type output struct {
	format string
	file   string
}

var formatExt = map[string]string{"text": ".txt", "json": ".json", "sarif": ".sarif", "junit": ".xml"}

// parseOutputs reads the --format values ("json", "json=out.json"). At
// most one format goes to stdout; with none at all, text goes there
// unless --output-dir alone was asked for.
func parseOutputs(specs []string, outputDir string) ([]output, error) {
	var outs []output
	stdout := 0
	for _, s := range specs {
		name, file, _ := strings.Cut(s, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if _, ok := formatExt[name]; !ok {
			return nil, usagef("--format %q: want text, json, sarif or junit, optionally =FILE", s)
		}
		if file == "" || file == "-" {
			file = ""
			stdout++
		}
		outs = append(outs, output{name, file})
	}
	if stdout > 1 {
		return nil, usagef("only one --format can go to stdout; give the others a file (--format json=out.json)")
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

// writeOutputs writes every requested output, then the per-image files of
// --output-dir. Files are written whole or not at all.
func writeOutputs(o *scanOptions, p *scanPlan, reports []report.Image, ro report.Options) error {
	for _, out := range p.outputs {
		if out.file == "" {
			if err := render(o.stdout, out.format, reports, ro, true); err != nil {
				return err
			}
			continue
		}
		fo := ro
		fo.Color = false
		if err := writeFile(out.file, func(w io.Writer) error { return render(w, out.format, reports, fo, false) }); err != nil {
			return err
		}
	}
	if o.outputDir == "" {
		return nil
	}
	if err := os.MkdirAll(o.outputDir, 0o755); err != nil {
		return err
	}
	fo := ro
	fo.Color = false
	names := reportNames(reports)
	for i := range reports {
		for _, out := range p.outputs {
			file := filepath.Join(o.outputDir, names[i]+formatExt[out.format])
			one := reports[i : i+1]
			if err := writeFile(file, func(w io.Writer) error { return render(w, out.format, one, fo, false) }); err != nil {
				return err
			}
		}
	}
	return nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// reportNames gives each image a distinct file name stem for --output-dir:
// its base name, made safe, with a counter when two images share it.
func reportNames(reports []report.Image) []string {
	names := make([]string, len(reports))
	seen := map[string]int{}
	for i, im := range reports {
		base := unsafeName.ReplaceAllString(filepath.Base(im.Path), "_")
		if base == "" || base == "." || base == ".." {
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
