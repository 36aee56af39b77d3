package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/imgcheck/imgcheck/rules/imgcheck"

	"github.com/imgcheck/imgcheck/rules"
)

// SchemaVersion is the version of the JSON report format described by
// schema/report.schema.json. It changes when a field changes meaning or
// disappears; new optional fields do not change it.
//
// Version 2: evidence is an object keyed by name; the document carries
// generated_at and totals.
const SchemaVersion = "2"

type jsonDoc struct {
	SchemaVersion string      `json:"schema_version"`
	Tool          jsonTool    `json:"tool"`
	GeneratedAt   string      `json:"generated_at"`
	Totals        jsonTotals  `json:"totals"`
	Images        []jsonImage `json:"images"`
}

// jsonTotals sum up a batch: findings per level over every image, images
// per verdict, and the batch's worst verdict.
type jsonTotals struct {
	Images   int             `json:"images"`
	Counts   Counts          `json:"counts"`
	Verdicts map[Verdict]int `json:"verdicts"`
	Verdict  Verdict         `json:"verdict"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonImage struct {
	Path           string        `json:"path"`
	Root           bool          `json:"root,omitempty"`
	SHA256         string        `json:"sha256,omitempty"`
	Profile        string        `json:"profile"`
	ToolVersion    string        `json:"tool_version"`
	Container      []Layer       `json:"container"`
	VirtualSize    int64         `json:"virtual_size,omitempty"`
	AllocatedSize  *int64        `json:"allocated_size,omitempty"`
	PartitionTable *Table        `json:"partition_table,omitempty"`
	Filesystems    []Filesystem  `json:"filesystems"`
	OS             OS            `json:"os"`
	RootError      string        `json:"root_error,omitempty"`
	Error          string        `json:"error,omitempty"`
	Findings       []jsonFinding `json:"findings"`
	Counts         Counts        `json:"counts"`
	Verdict        Verdict       `json:"verdict"`
	ExpiredWaivers []jsonWaiver  `json:"expired_waivers,omitempty"`
	Stats          *jsonStats    `json:"stats,omitempty"`
}

type jsonFinding struct {
	Rule         string       `json:"rule"`
	Level        string       `json:"level"`
	Message      string       `json:"message"`
	Subject      string       `json:"subject,omitempty"`
	Evidence     jsonEvidence `json:"evidence"`
	Fix          string       `json:"fix,omitempty"`
	SkipReason   string       `json:"skip_reason,omitempty"`
	Approximate  bool         `json:"approximate"`
	Counted      *bool        `json:"counted,omitempty"`
	Waived       bool         `json:"waived"`
	WaiverReason string       `json:"waiver_reason,omitempty"`
}

type jsonWaiver struct {
	Rule    string `json:"rule"`
	Image   string `json:"image,omitempty"`
	Subject string `json:"subject,omitempty"`
	Reason  string `json:"reason"`
	Expires string `json:"expires"`
}

type jsonStats struct {
	Seconds      float64  `json:"seconds"`
	BytesRead    int64    `json:"bytes_read"`
	ReadCalls    int64    `json:"read_calls"`
	CacheHitRate *float64 `json:"cache_hit_rate,omitempty"`
	// For an image read over the network.
	Requests         int64 `json:"requests,omitempty"`
	BytesTransferred int64 `json:"bytes_transferred,omitempty"`
	ObjectSize       int64 `json:"object_size,omitempty"`
}

// JSON writes one document holding a report object per image, in the
// format of schema/report.schema.json (SchemaVersion). Every string is
// redacted.
func JSON(w io.Writer, reports []Image, o Options) error {
	doc := jsonDoc{
		SchemaVersion: SchemaVersion,
		Tool:          jsonTool{Name: "imgcheck", Version: o.versionText()},
		GeneratedAt:   o.now().UTC().Format(time.RFC3339),
		Totals:        totals(reports),
		Images:        []jsonImage{},
	}
	for i := range reports {
		doc.Images = append(doc.Images, toJSON(&reports[i], o))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func toJSON(im *Image, o Options) jsonImage {
	j := jsonImage{
		Path:           rules.Redact(im.Path),
		Root:           im.Root,
		SHA256:         im.SHA256,
		Profile:        profileName(im.Profile),
		ToolVersion:    o.versionText(),
		Container:      im.Container,
		VirtualSize:    im.VirtualSize,
		PartitionTable: im.Table,
		Filesystems:    im.Filesystems,
		OS:             im.OS,
		RootError:      rules.Redact(oneLine(im.RootError)),
		Findings:       []jsonFinding{},
		Counts:         im.Count(),
		Verdict:        im.Verdict(),
	}
	if j.Container == nil {
		j.Container = []Layer{}
	}
	if j.Filesystems == nil {
		j.Filesystems = []Filesystem{}
	}
	if im.AllocatedSize >= 0 && !im.Root {
		a := im.AllocatedSize
		j.AllocatedSize = &a
	}
	if im.Err != nil {
		j.Error = rules.Redact(oneLine(im.Err.Error()))
	}
	for f := range im.findings() {
		j.Findings = append(j.Findings, findingJSON(f, im.Profile))
	}
	for _, w := range im.ExpiredWaivers {
		j.ExpiredWaivers = append(j.ExpiredWaivers, jsonWaiver{w.Rule, w.Image, w.Subject, rules.Redact(w.Reason), w.Expires.Format(dateLayout)})
	}
	if s := im.Stats; s != nil {
		js := &jsonStats{Seconds: s.Duration.Round(time.Millisecond).Seconds(), BytesRead: s.BytesRead, ReadCalls: s.ReadCalls}
		if r := s.HitRate(); r >= 0 {
			js.CacheHitRate = &r
		}
		js.Requests, js.BytesTransferred, js.ObjectSize = s.Requests, s.Transferred, s.ObjectSize
		j.Stats = js
	}
	return j
}

// jsonEvidence is a finding's evidence as an object keyed by name, in
// the finding's order; a key given twice holds its values joined by ", ".
type jsonEvidence []rules.KV

// MarshalJSON writes the pairs as one object, keys in evidence order.
func (ev jsonEvidence) MarshalJSON() ([]byte, error) {
	var keys []string
	vals := map[string]string{}
	for _, kv := range ev {
		if v, dup := vals[kv.Key]; dup {
			vals[kv.Key] = v + ", " + kv.Value
			continue
		}
		keys = append(keys, kv.Key)
		vals[kv.Key] = kv.Value
	}
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(vals[k])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}

// totals sums up reports for the document's totals.
func totals(reports []Image) jsonTotals {
	t := jsonTotals{Images: len(reports), Verdicts: map[Verdict]int{VerdictPass: 0, VerdictWarn: 0, VerdictError: 0, VerdictFail: 0}, Verdict: VerdictPass}
	rank := map[Verdict]int{VerdictPass: 0, VerdictWarn: 1, VerdictError: 2, VerdictFail: 3}
	for i := range reports {
		c, v := reports[i].Count(), reports[i].Verdict()
		t.Counts.Pass += c.Pass
		t.Counts.Info += c.Info
		t.Counts.Skip += c.Skip
		t.Counts.Warn += c.Warn
		t.Counts.Fail += c.Fail
		t.Counts.Error += c.Error
		t.Counts.Waived += c.Waived
		t.Verdicts[v]++
		if rank[v] > rank[t.Verdict] {
			t.Verdict = v
		}
	}
	return t
}

func findingJSON(f rules.Finding, p rules.Profile) jsonFinding {
	ev := make(jsonEvidence, len(f.Evidence))
	for i, kv := range f.Evidence {
		ev[i] = rules.KV{Key: kv.Key, Value: rules.Redact(kv.Value)}
	}
	j := jsonFinding{
		Rule:         f.Rule,
		Level:        f.Level.String(),
		Message:      rules.Redact(f.Message),
		Subject:      rules.Redact(f.Subject),
		Evidence:     ev,
		Fix:          rules.Redact(f.Fix),
		SkipReason:   f.SkipReason,
		Approximate:  f.Approximate,
		Waived:       f.Waived,
		WaiverReason: rules.Redact(f.WaiverReason),
	}
	if p == rules.ImgCheck {
		c := imgcheck.Counted(f)
		j.Counted = &c
	}
	return j
}
