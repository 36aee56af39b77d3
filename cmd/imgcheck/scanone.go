package main

import (
	"context"
	"fmt"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// scanOne scans one target under the per-image timeout. It never fails:
// an image that cannot be opened or read, a timeout and a panic all become
// report.Image.Err, so a batch goes on (the ERROR row).
func scanOne(ctx context.Context, path string, o *scanOptions, p *scanPlan) report.Image {
	start := time.Now()
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	done := make(chan report.Image, 1)
	go func() {
		im := report.Image{Path: path, Profile: p.profile, AllocatedSize: -1}
		defer func() {
			if r := recover(); r != nil {
				im.Results = nil
				im.Err = fmt.Errorf("internal error: %v", r)
				done <- im
			}
		}()
		p.scan(ctx, &im, o, p)
		done <- im
	}()
	select {
	case im := <-done:
		if o.stats && im.Stats == nil {
			im.Stats = &report.Stats{Duration: time.Since(start)}
		}
		return im
	case <-ctx.Done():
		// The scan goroutine finishes on its own: reads of a hung image
		// are not interruptible, but nothing waits for them.
		err := fmt.Errorf("scan stopped: %w", ctx.Err())
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("timed out after %s", o.timeout)
		}
		return report.Image{Path: displayPath(path), Profile: p.profile, AllocatedSize: -1, Err: err}
	}
}

// scanTarget opens the target, runs the rules and describes the image.
func scanTarget(ctx context.Context, im *report.Image, o *scanOptions, p *scanPlan) {
	start := time.Now()
	defer func() { im.Path = displayPath(im.Path) }()
	if p.hash && !p.root && !isRemote(im.Path) {
		sum, err := fileSHA256(im.Path)
		if err != nil {
			im.Err = &openError{im.Path, err}
			return
		}
		im.SHA256 = sum
	}
	oo := openOptions{allowBacking: o.allowBacking, tmpDir: o.tmpDir, maxExpand: p.maxExpand, remote: o.remote, limits: o.limits}
	if len(p.targets) == 1 && isTerminal(o.stderr) {
		oo.progress = expandProgress(o.stderr)
	}
	t, err := openTarget(ctx, im.Path, p.root, oo)
	if err != nil {
		im.Err = err
		return
	}
	if p.held.hold(t) {
		im.Files = t.guest
	} else {
		defer t.Close()
	}
	t.describe(im)
	ropts := p.ruleOpts
	im.Results = rules.Run(ctx, t.guest, p.rules, ropts, t.disk())
	if t.guest != nil {
		im.OS = guestOS(t.guest, &ropts)
	}
	if o.stats {
		im.Stats = t.stats(time.Since(start))
	}
}

// guestOS reads the identity of the guest's OS through the rules' facts.
func guestOS(g *fsinspect.Guest, o *rules.Options) report.OS {
	facts := rules.NewFacts(g, o)
	var out report.OS
	if r, err := facts.OSRelease(); err == nil && r != nil {
		out = report.OS{ID: r.ID, Name: r.Name, VersionID: r.VersionID, PrettyName: r.PrettyName}
		if o.Profile == rules.ImgCheck {
			out.Name, out.VersionID = r.ParityOS, r.ParityVersion
		}
	}
	if fam, err := facts.Family(); err == nil {
		out.Family = string(fam)
	}
	return out
}
