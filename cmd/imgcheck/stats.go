package main

import (
	"fmt"
	"io"
	"time"

	"github.com/imgcheck/imgcheck/rules/report"
)

// printScanStats writes the --stats lines of a scan on stderr.
func printScanStats(w io.Writer, reports []report.Image, total time.Duration) {
	for _, im := range reports {
		if im.Stats != nil {
			printStats(w, im.Path, *im.Stats)
		}
	}
	if len(reports) > 1 {
		fmt.Fprintf(w, "stats: %d images in %.3fs\n", len(reports), total.Seconds())
	}
}

func printStats(w io.Writer, name string, s report.Stats) {
	hit := "n/a"
	if r := s.HitRate(); r >= 0 {
		hit = fmt.Sprintf("%.1f%%", 100*r)
	}
	fmt.Fprintf(w, "stats: %s: %.3fs, %d bytes read in %d read calls, cache hit rate %s%s\n",
		name, s.Duration.Seconds(), s.BytesRead, s.ReadCalls, hit, remoteStatsLine(s))
}
