package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/rules/report"
)

// scanAll scans every target of the plan with o.jobs workers and hands
// each result to done as its scan ends, from one goroutine, so that done
// needs no lock and a batch of any length streams. pos is the target's
// position in p.targets. A progress bar runs on stderr only when stderr
// is a terminal and there is more than one image.
func scanAll(ctx context.Context, o *scanOptions, p *scanPlan, done func(pos int, l report.Line)) {
	var bar *progressbar.ProgressBar
	if len(p.targets) > 1 && isTerminal(o.stderr) {
		bar = progressbar.NewOptions(len(p.targets),
			progressbar.OptionSetWriter(o.stderr),
			progressbar.OptionSetDescription("scanning"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(0),
		)
	}
	type ended struct {
		pos  int
		line report.Line
	}
	jobs := make(chan int)
	results := make(chan ended, o.jobs)
	var wg sync.WaitGroup
	for range min(o.jobs, len(p.targets)) {
		wg.Go(func() {
			for i := range jobs {
				results <- ended{i, p.lineFor(ctx, i)}
			}
		})
	}
	go func() {
		for i := range p.targets {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	for r := range results {
		done(r.pos, r.line)
		if bar != nil {
			bar.Add(1)
		}
	}
	if bar != nil {
		bar.Finish()
	}
}

// lineFor produces the result of target pos: carried over from an
// earlier run by --resume when its source has not changed, else scanned.
func (p *scanPlan) lineFor(ctx context.Context, pos int) report.Line {
	path := p.targets[pos]
	l := report.Line{Index: p.index(pos)}
	if p.identify != nil {
		l.Source = p.identify(ctx, path)
	}
	if p.resume != nil && l.Source != nil {
		if old, ok := p.resume(ctx, pos, l.Source); ok {
			old.Index, old.Resumed = l.Index, true
			return old
		}
	}
	l.Image = scanOne(ctx, p, path)
	return l
}

// index is the position of target pos in the whole list, before sharding.
func (p *scanPlan) index(pos int) int {
	if p.indexes == nil {
		return pos
	}
	return p.indexes[pos]
}

// scanOne scans one target with the plan's scan, which never fails; a
// panic that escapes it still becomes the image's ERROR row.
func scanOne(ctx context.Context, p *scanPlan, path string) (im *report.Image) {
	defer func() {
		if r := recover(); r != nil {
			im = &report.Image{Path: imgcheck.DisplayName(path), Profile: p.profile, AllocatedSize: -1, Err: fmt.Errorf("internal error: %v", r)}
		}
	}()
	return p.scan(ctx, path)
}

// expandProgress returns a progress callback that draws a byte bar on w
// while a compressed upload is expanded. It is used for a single image on
// a terminal; a batch has its own bar.
func expandProgress(w io.Writer) func(done, total int64) {
	var bar *progressbar.ProgressBar
	return func(done, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription("expanding"),
				progressbar.OptionShowBytes(true),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionThrottle(0),
			)
		}
		bar.Set64(done)
		if done >= total {
			bar.Finish()
		}
	}
}
