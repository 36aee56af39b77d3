package rules

import (
	_ "embed"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

// A Doc is a rule's entry in the rule reference (reference.yaml): what
// docs/rules.md, `imgcheck rules explain` and report help text say about
// it.
type Doc struct {
	ID string
	// Why says why DigitalOcean cares.
	Why string
	// Levels says when each level is given, most telling first.
	Levels []LevelDoc
	// Evidence lists the evidence keys its findings carry.
	Evidence []string
	// Fix is the fix, naming commands.
	Fix string
	// ImgCheck names the img_check.sh v1.8.1 counterpart, or says there is
	// none.
	ImgCheck string
}

// LevelDoc is when a rule gives one level.
type LevelDoc struct {
	Level string // "PASS", "WARN", "FAIL", ...
	When  string
}

//go:embed reference.yaml
var referenceYAML []byte

var (
	docsOnce sync.Once
	docs     map[string]Doc
	docsErr  error
)

// Docs returns the rule reference keyed by rule ID. The reference ships
// inside the binary; an error means it is malformed, which a test
// prevents.
func Docs() (map[string]Doc, error) {
	docsOnce.Do(func() { docs, docsErr = parseDocs(referenceYAML) })
	return docs, docsErr
}

// LookupDoc returns the reference entry of rule id.
func LookupDoc(id string) (Doc, bool) {
	d, err := Docs()
	if err != nil {
		return Doc{}, false
	}
	doc, ok := d[id]
	return doc, ok
}

// parseDocs reads reference.yaml: a list of entries, each with its levels
// as a mapping in the order written.
func parseDocs(b []byte) (map[string]Doc, error) {
	var raw []struct {
		ID       string    `yaml:"id"`
		Why      string    `yaml:"why"`
		Levels   yaml.Node `yaml:"levels"`
		Evidence []string  `yaml:"evidence"`
		Fix      string    `yaml:"fix"`
		ImgCheck string    `yaml:"img_check"`
	}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("rule reference: %w", err)
	}
	out := make(map[string]Doc, len(raw))
	for _, r := range raw {
		if _, dup := out[r.ID]; dup || r.ID == "" {
			return nil, fmt.Errorf("rule reference: entry %q is empty or given twice", r.ID)
		}
		d := Doc{ID: r.ID, Why: r.Why, Evidence: r.Evidence, Fix: r.Fix, ImgCheck: r.ImgCheck}
		if r.Levels.Kind != yaml.MappingNode || len(r.Levels.Content) == 0 {
			return nil, fmt.Errorf("rule reference: %s: levels must be a mapping", r.ID)
		}
		for i := 0; i+1 < len(r.Levels.Content); i += 2 {
			d.Levels = append(d.Levels, LevelDoc{Level: r.Levels.Content[i].Value, When: r.Levels.Content[i+1].Value})
		}
		out[r.ID] = d
	}
	return out, nil
}
