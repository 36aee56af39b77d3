// Package imgcheck is the library behind the imgcheck command: it opens a
// disk image (a local file, an HTTP/S3 URL, a compressed upload) or a
// guest root directory read-only, runs a selection of rules over the
// filesystem inside, and returns one Result that every report writer and
// `imgcheck diff` read.
//
//	t, err := imgcheck.Open(ctx, "disk.qcow2", imgcheck.Options{})
//	if err != nil { ... }
//	defer t.Close()
//	sel, _ := imgcheck.Select(rules.Marketplace, nil, nil)
//	res := imgcheck.Scan(ctx, t, sel)
//
// ScanPath does the same for one target with a deadline and never fails:
// an image that cannot be opened or read, a timeout and a panic all
// become Result.Err, so a batch goes on.
package imgcheck

import (
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// Result is everything a scan found out about one target: the container
// chain, partition table, filesystems, OS identity, the rules' results,
// the cost of the scan, or the error that stopped it. The writers in
// rules/report read it.
type Result = report.Image

// Selection is which rules a scan runs and the run-wide settings they
// consult (profile, clock, plans, user-supplied apt lists, ...).
type Selection struct {
	Rules   []rules.Rule
	Options rules.Options
	// ShowContents reads the bodies of the files the report may print
	// (logs and authorized_keys files that findings name) into
	// Result.Contents during the scan, for --show-contents.
	ShowContents bool
	// Stats records the scan's cost in Result.Stats.
	Stats bool
	// Hash records the SHA-256 of the image file in Result.SHA256 (it
	// reads the whole file).
	Hash bool
}

// Select returns the Selection of profile p: its default rules plus the
// rules named in enable, minus those in disable. An unknown rule ID is an
// error.
func Select(p rules.Profile, enable, disable []string) (Selection, error) {
	rs, err := rules.Select(p, enable, disable)
	if err != nil {
		return Selection{}, err
	}
	return Selection{Rules: rs, Options: rules.Options{Profile: p}}, nil
}
