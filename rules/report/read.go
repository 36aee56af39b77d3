package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/imgcheck/imgcheck/rules"
)

// ReadResults reads a result set written by JSON (a document with an
// images array) or JSONL (one image object per line) and calls fn with
// each image in file order. An image of a JSON document gets its position
// in the array as index. Findings are grouped back into one Result per
// rule, in order; counts and verdicts are recomputed from the findings.
// Fields it does not know are ignored, as the schema's versioning asks;
// the caller bounds the size of r.
func ReadResults(r io.Reader, fn func(Line) error) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			if n == 1 {
				return errors.New("no results: empty input")
			}
			return nil
		} else if err != nil {
			return fmt.Errorf("value %d: %w", n, err)
		}
		var probe struct {
			SchemaVersion string            `json:"schema_version"`
			Images        []json.RawMessage `json:"images"`
			Path          *string           `json:"path"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return fmt.Errorf("value %d: %w", n, err)
		}
		if probe.SchemaVersion != SchemaVersion {
			return fmt.Errorf("value %d: schema_version %q, want %q", n, probe.SchemaVersion, SchemaVersion)
		}
		if probe.Path != nil {
			l, err := decodeLine(raw, -1)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			if err := fn(l); err != nil {
				return err
			}
			continue
		}
		for i, im := range probe.Images {
			l, err := decodeLine(im, i)
			if err != nil {
				return fmt.Errorf("image %d: %w", i, err)
			}
			if err := fn(l); err != nil {
				return err
			}
		}
	}
}

// decodeLine turns one image object back into a Line; index, when not
// negative, replaces the object's own.
func decodeLine(raw []byte, index int) (Line, error) {
	var j jsonLine
	if err := json.Unmarshal(raw, &j); err != nil {
		return Line{}, err
	}
	if j.Path == "" {
		return Line{}, errors.New("no path")
	}
	im := &Image{
		Path:          j.Path,
		Root:          j.Root,
		SHA256:        j.SHA256,
		Profile:       rules.Profile(j.Profile),
		Container:     j.Container,
		VirtualSize:   j.VirtualSize,
		AllocatedSize: -1,
		Table:         j.PartitionTable,
		Filesystems:   j.Filesystems,
		OS:            j.OS,
		RootError:     j.RootError,
	}
	if j.AllocatedSize != nil {
		im.AllocatedSize = *j.AllocatedSize
	}
	if j.Error != "" {
		im.Err = errors.New(j.Error)
	}
	for _, f := range j.Findings {
		lv, err := rules.ParseLevel(f.Level)
		if err != nil {
			return Line{}, fmt.Errorf("finding of %s: %w", f.Rule, err)
		}
		fd := rules.Finding{Rule: f.Rule, Level: lv, Message: f.Message, Subject: f.Subject, Evidence: []rules.KV(f.Evidence),
			Fix: f.Fix, SkipReason: f.SkipReason, Approximate: f.Approximate, Waived: f.Waived, WaiverReason: f.WaiverReason}
		if n := len(im.Results); n == 0 || im.Results[n-1].Rule.ID != f.Rule {
			rule, ok := rules.Lookup(f.Rule)
			if !ok {
				rule = rules.Rule{ID: f.Rule}
			}
			im.Results = append(im.Results, rules.Result{Rule: rule})
		}
		last := &im.Results[len(im.Results)-1]
		last.Findings = append(last.Findings, fd)
	}
	for _, w := range j.ExpiredWaivers {
		exp, _ := time.Parse(dateLayout, w.Expires)
		im.ExpiredWaivers = append(im.ExpiredWaivers, Waiver{Rule: w.Rule, Image: w.Image, Subject: w.Subject, Reason: w.Reason, Expires: exp})
	}
	if s := j.Stats; s != nil {
		im.Stats = &Stats{Duration: time.Duration(s.Seconds * float64(time.Second)), BytesRead: s.BytesRead, ReadCalls: s.ReadCalls,
			Requests: s.Requests, Transferred: s.BytesTransferred, ObjectSize: s.ObjectSize}
		if s.CacheHitRate != nil {
			// Only the rate was kept: scale it to hits per thousand lookups.
			im.Stats.CacheHits = int64(*s.CacheHitRate*1000 + 0.5)
			im.Stats.CacheMiss = 1000 - im.Stats.CacheHits
		}
	}
	l := Line{Index: j.Index, Image: im, Source: j.Source, Resumed: j.Resumed, ToolVersion: j.ToolVersion}
	if index >= 0 {
		l.Index = index
	}
	return l, nil
}

// UnmarshalJSON reads an evidence object back into pairs, in the order
// of its keys.
func (ev *jsonEvidence) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("evidence: want an object")
	}
	*ev = (*ev)[:0]
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("evidence %v: %w", t, err)
		}
		*ev = append(*ev, rules.KV{Key: t.(string), Value: v})
	}
	if *ev == nil {
		*ev = jsonEvidence{}
	}
	return nil
}
