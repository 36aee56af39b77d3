package main

import (
	"context"
	"sync"

	"github.com/schollz/progressbar/v3"

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
				reports[i] = scanOne(ctx, p.targets[i], o, p)
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
