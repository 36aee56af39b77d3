package imgcheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// Scan runs the selected rules over the opened target and describes it.
// Rules that cannot read what they need report ERROR findings; Scan itself
// never fails.
func Scan(ctx context.Context, t *Target, sel Selection) *Result {
	start := time.Now()
	res := &Result{Path: t.Name(), Profile: sel.Options.Profile, Started: start}
	t.describe(res)
	opts := sel.Options
	res.Results = rules.Run(ctx, t.guest, sel.Rules, opts, t.disk())
	if t.guest != nil {
		res.OS = guestOS(t.guest, &opts)
		if sel.ShowContents {
			res.Contents = readContents(t.guest, report.ContentFiles(res.Results))
		}
	}
	if t.guest != nil {
		t.guest.Settle()
	}
	res.Duration = time.Since(start)
	if sel.Stats {
		res.Stats = t.stats(res.Duration)
	}
	return res
}

// ScanPath opens the target at path, scans it and closes it, under
// timeout when it is positive (the command passes DefaultTimeout unless
// told otherwise). It never fails: a target that cannot be
// opened or read, a timeout and a panic all become Result.Err, so that a
// batch goes on.
func ScanPath(ctx context.Context, path string, o Options, sel Selection, timeout time.Duration) *Result {
	start := time.Now()
	var scanned *Result // written by fn, read only when Within returns its nil error
	err := Within(ctx, timeout, func(ctx context.Context) error {
		scanned = scanPath(ctx, path, o, sel)
		return nil
	})
	res := scanned
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("scan %w", err) // "scan stopped: context canceled"
		}
		res = failed(path, sel, err)
	}
	res.Started, res.Duration = start, time.Since(start)
	if sel.Stats && res.Stats == nil {
		res.Stats = &report.Stats{Duration: res.Duration}
	}
	return res
}

// scanPath is ScanPath without the deadline.
func scanPath(ctx context.Context, path string, o Options, sel Selection) *Result {
	var sum string
	if sel.Hash && !o.Root && !IsRemote(path) {
		var err error
		if sum, err = fileSHA256(path); err != nil {
			return failed(path, sel, &OpenError{path, err})
		}
	}
	t, err := Open(ctx, path, o)
	if err != nil {
		return failed(path, sel, err)
	}
	defer t.Close()
	res := Scan(ctx, t, sel)
	res.SHA256 = sum
	return res
}

// failed is the Result of a target that could not be scanned.
func failed(path string, sel Selection, err error) *Result {
	return &Result{Path: DisplayName(path), Profile: sel.Options.Profile, AllocatedSize: -1, Err: err}
}

// guestOS reads the identity of the guest's OS through the rules' facts.
func guestOS(g *fsinspect.Guest, o *rules.Options) report.OS {
	facts := rules.NewFacts(g, o)
	var out report.OS
	if r, err := facts.OSRelease(); err == nil && r != nil {
		out = report.OS{ID: r.ID, Name: r.Name, VersionID: r.VersionID, PrettyName: r.PrettyName}
		if c, err := facts.ReleaseChain(); err == nil && o.Profile == rules.ImgCheck {
			out.Name, out.VersionID = c.OS, c.Version
		}
	}
	if fam, err := facts.Family(); err == nil {
		out.Family = string(fam)
	}
	return out
}

// OS identifies the guest's operating system as a marketplace scan
// names it, for callers that open a Target without scanning it.
func (t *Target) OS() report.OS {
	if t.guest == nil {
		return report.OS{}
	}
	return guestOS(t.guest, &rules.Options{Profile: rules.Marketplace})
}

// readContents reads the files the report may print, each up to its cap
// (one byte more, so that the writer can tell a longer file). A file that
// is not a regular file, cannot be read, or is wanted whole and is over
// its cap is left out.
func readContents(g *fsinspect.Guest, want []report.ContentFile) map[string][]byte {
	out := map[string][]byte{}
	for _, w := range want {
		if _, seen := out[w.Path]; !seen {
			if b, ok := readContent(g, w); ok {
				out[w.Path] = b
			}
		}
	}
	return out
}

func readContent(g *fsinspect.Guest, w report.ContentFile) ([]byte, bool) {
	f, err := g.Open(strings.TrimPrefix(w.Path, "/"))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || (w.Whole && st.Size() > w.Max) {
		return nil, false
	}
	b := make([]byte, min(st.Size(), w.Max+1))
	n, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, false
	}
	return b[:n], true
}

// fileSHA256 hashes the image file as stored on the host.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
