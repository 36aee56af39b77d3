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

// scanAll scans every target with o.jobs workers and returns the reports
// in the order of the targets. A progress bar runs on stderr only when
// stderr is a terminal and there is more than one image.
func scanAll(ctx context.Context, o *scanOptions, p *scanPlan) []report.Image {
	reports := make([]report.Image, len(p.targets))
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
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(o.jobs, len(p.targets)) {
		wg.Go(func() {
			for i := range jobs {
				reports[i] = scanOne(ctx, p, p.targets[i])
				if bar != nil {
					bar.Add(1)
				}
			}
		})
	}
	for i := range p.targets {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	return reports
}

// scanOne scans one target with the plan's scan, which never fails; a
// panic that escapes it still becomes the image's ERROR row.
func scanOne(ctx context.Context, p *scanPlan, path string) (im report.Image) {
	defer func() {
		if r := recover(); r != nil {
			im = report.Image{Path: imgcheck.DisplayName(path), Profile: p.profile, AllocatedSize: -1, Err: fmt.Errorf("internal error: %v", r)}
		}
	}()
	return *p.scan(ctx, path)
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
