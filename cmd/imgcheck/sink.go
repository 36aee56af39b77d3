package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// A sink receives each result as its scan ends (scanAll calls it from one
// goroutine): it applies the waivers, streams JSONL lines, writes the
// image's files into --output-dir, prints its notes on stderr and counts
// it. It keeps the whole report only when a batch output needs every
// image (JSON, SARIF, JUnit, text into a file, --stats); otherwise memory
// stays flat however long the batch.
type sink struct {
	ctx context.Context
	o   *scanOptions
	p   *scanPlan
	ro  report.Options
	now time.Time

	streams []io.Writer // JSONL outputs: stdout or files
	files   []*os.File  // the JSONL files, closed by finish
	store   resultStore // --output-dir, or nil

	keep    bool
	reports []report.Image // by position in p.targets, when keep
	kept    []bool

	tally    report.Tally
	verdicts map[report.Verdict]bool
	err      error // the first write error
}

// newSink opens the streamed outputs: JSONL files and stdout.
func newSink(ctx context.Context, o *scanOptions, p *scanPlan, ro report.Options) (*sink, error) {
	s := &sink{ctx: ctx, o: o, p: p, ro: ro, now: time.Now(), store: p.store, verdicts: map[report.Verdict]bool{}}
	s.keep = o.stats || len(p.targets) == 1
	for _, out := range p.outputs {
		switch {
		case out.format == "jsonl" && out.file != "":
			f, err := os.Create(out.file)
			if err != nil {
				s.close()
				return nil, err
			}
			s.files = append(s.files, f)
			s.streams = append(s.streams, f)
		case out.format == "jsonl" && s.store == nil:
			s.streams = append(s.streams, o.stdout)
		case out.format != "jsonl" && (out.format != "text" || out.file != ""):
			s.keep = true
		}
	}
	if s.keep {
		s.reports = make([]report.Image, len(p.targets))
		s.kept = make([]bool, len(p.targets))
	}
	return s, nil
}

func (s *sink) fail(err error) {
	if err != nil && s.err == nil {
		s.err = err
	}
}

// add takes the result of target pos.
func (s *sink) add(pos int, l report.Line) {
	im := l.Image
	if !l.Resumed {
		report.ApplyWaivers(im, s.p.waivers, s.now)
	}
	s.tally.Add(im)
	s.verdicts[im.Verdict()] = true
	if im.Profile == rules.ImgCheck && im.Err == nil && !l.Resumed {
		report.ImgCheckNotes(s.o.stderr, im.Results)
	}
	if im.Err != nil {
		fmt.Fprintf(s.o.stderr, "imgcheck: %s: %s\n", im.Path, oneLine(im.Err.Error()))
	}
	for _, w := range im.ExpiredWaivers {
		fmt.Fprintf(s.o.stderr, "imgcheck: %s: waiver for %s expired on %s\n", im.Path, w.Rule, w.Expires.Format("2006-01-02"))
	}
	fo := s.ro
	fo.Color = false
	for _, w := range s.streams {
		s.fail(report.JSONLine(w, l, fo))
	}
	if s.store != nil && !l.Resumed {
		s.fail(s.putImage(pos, l, fo))
	}
	if s.keep {
		s.reports[pos], s.kept[pos] = *im, true
	}
}

// putImage writes the image's file of each requested format into
// --output-dir (a format given a file too), the
// JSONL line last: --resume takes its presence as the proof that the
// image is done.
func (s *sink) putImage(pos int, l report.Line, fo report.Options) error {
	name := s.p.names[pos]
	var jsonl bool
	for _, out := range s.p.outputs {
		if out.format == "jsonl" {
			jsonl = true
			continue
		}
		var buf bytes.Buffer
		if err := render(&buf, out.format, []report.Image{*l.Image}, fo, false); err != nil {
			return err
		}
		if err := s.store.put(s.ctx, name+formatExt[out.format], buf.Bytes()); err != nil {
			return err
		}
	}
	if !jsonl {
		return nil
	}
	var buf bytes.Buffer
	if err := report.JSONLine(&buf, l, fo); err != nil {
		return err
	}
	return s.store.put(s.ctx, name+formatExt["jsonl"], buf.Bytes())
}

// finish writes the batch outputs: files, the batch files of
// --output-dir, and stdout (the summary table with --output-dir).
func (s *sink) finish() error {
	defer s.close()
	if s.err != nil {
		return s.err
	}
	var reports []report.Image
	for i, ok := range s.kept {
		if ok {
			reports = append(reports, s.reports[i])
		}
	}
	fo := s.ro
	fo.Color = false
	for _, out := range s.p.outputs {
		switch {
		case out.format == "jsonl":
		case out.file != "":
			if err := writeFile(out.file, func(w io.Writer) error { return render(w, out.format, reports, fo, false) }); err != nil {
				return err
			}
		case s.store != nil:
			var buf bytes.Buffer
			var err error
			if out.format == "text" {
				err = s.summary(&buf, fo)
			} else {
				err = render(&buf, out.format, reports, fo, false)
			}
			if err == nil {
				err = s.store.put(s.ctx, s.p.batchName(out.format), buf.Bytes())
			}
			if err != nil {
				return err
			}
		case out.format == "text" && len(s.p.targets) == 1:
			if err := render(s.o.stdout, "text", reports, s.ro, true); err != nil {
				return err
			}
		case out.format == "text":
			if err := s.summary(s.o.stdout, s.ro); err != nil {
				return err
			}
		default:
			if err := render(s.o.stdout, out.format, reports, s.ro, true); err != nil {
				return err
			}
		}
	}
	if s.store != nil {
		return s.summary(s.o.stdout, s.ro)
	}
	return nil
}

// summary writes the batch table and the cross-image rule summary.
func (s *sink) summary(w io.Writer, o report.Options) error {
	if err := s.tally.WriteTable(w, o); err != nil {
		return err
	}
	if len(s.tally.Rules()) == 0 {
		return nil
	}
	io.WriteString(w, "\n")
	return s.tally.WriteRules(w)
}

func (s *sink) close() {
	for _, f := range s.files {
		s.fail(f.Close())
	}
	s.files = nil
}
