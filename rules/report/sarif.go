package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/imgcheck/imgcheck/rules"
)

// SARIF 2.1.0 (OASIS), in the subset GitHub code scanning accepts.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool      sarifTool       `json:"tool"`
	Artifacts []sarifArtifact `json:"artifacts,omitempty"`
	Results   []sarifResult   `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifHelp      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
}

type sarifArtifactLocation struct {
	URI   string `json:"uri"`
	Index *int   `json:"index,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Kind                string             `json:"kind"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

// sarifSchemaURI is the schema GitHub and the OASIS validator recognise.
const sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// SARIF writes one SARIF 2.1.0 log with a single run for all images: one
// reportingDescriptor per rule ID with its help text, and one result per
// finding. Each result is located by the image file's URI (the artifact)
// and by the guest path or user as a logical location, so results of
// several images stay apart. partialFingerprints hash (rule,
// subject). PASS, INFO and SKIP findings are results of kind pass,
// informational and notApplicable with level none, so the log proves
// that every rule ran; waived findings carry an external suppression.
func SARIF(w io.Writer, reports []Image, o Options) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "imgcheck",
			Version:        o.versionText(),
			InformationURI: "https://github.com/imgcheck/imgcheck",
			Rules:          []sarifRule{},
		}},
		Results: []sarifResult{},
	}
	ruleIndex := map[string]int{}
	addRule := func(id string) int {
		if i, ok := ruleIndex[id]; ok {
			return i
		}
		ruleIndex[id] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleFor(id))
		return ruleIndex[id]
	}
	for i := range reports {
		im := &reports[i]
		uri := artifactURI(im.Path)
		idx := len(run.Artifacts)
		run.Artifacts = append(run.Artifacts, sarifArtifact{Location: sarifArtifactLocation{URI: uri}})
		loc := func(subject string) []sarifLocation {
			l := sarifLocation{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifactLocation{URI: uri, Index: &idx},
				Region:           sarifRegion{StartLine: 1},
			}}
			if subject != "" {
				kind := "object"
				if strings.HasPrefix(subject, "/") {
					kind = "resource"
				}
				l.LogicalLocations = []sarifLogical{{Name: redact(subject), FullyQualifiedName: redact(subject), Kind: kind}}
			}
			return []sarifLocation{l}
		}
		if im.Err != nil {
			ri := addRule(imageErrorRule)
			run.Results = append(run.Results, sarifResult{
				RuleID: imageErrorRule, RuleIndex: ri, Kind: "fail", Level: "error",
				Message:             sarifText{Text: redact(im.Path + ": " + oneLine(im.Err.Error()))},
				Locations:           loc(""),
				PartialFingerprints: fingerprint(imageErrorRule, ""),
			})
		}
		for _, f := range im.Findings() {
			ri := addRule(f.Rule)
			kind, level := sarifLevel(f.Level)
			msg := oneLine(f.Message)
			if ev := evidenceText(f); ev != "" {
				msg += " (" + ev + ")"
			}
			if f.Fix != "" {
				msg += " Fix: " + oneLine(f.Fix)
			}
			r := sarifResult{
				RuleID: f.Rule, RuleIndex: ri, Kind: kind, Level: level,
				Message:             sarifText{Text: redact(msg)},
				Locations:           loc(f.Subject),
				PartialFingerprints: fingerprint(f.Rule, f.Subject),
				Properties:          map[string]any{"image": redact(im.Path), "imgcheckLevel": f.Level.String()},
			}
			if f.Approximate {
				r.Properties["approximate"] = true
			}
			if f.Waived {
				r.Suppressions = []sarifSuppression{{Kind: "external", Justification: redact(f.WaiverReason)}}
			}
			run.Results = append(run.Results, r)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}})
}

// imageErrorRule is the pseudo-rule of an image that could not be scanned.
const imageErrorRule = "image.unreadable"

func sarifRuleFor(id string) sarifRule {
	title := "The image could not be opened or scanned"
	level := "error"
	var profiles []string
	if r, ok := rules.Lookup(id); ok {
		title = r.Title
		level = "warning"
		for _, p := range r.Profiles {
			profiles = append(profiles, string(p))
		}
	}
	if title == "" {
		title = id
	}
	help := title + ". See RULES.md for the rule " + id + "."
	return sarifRule{
		ID:                   id,
		Name:                 sarifName(id),
		ShortDescription:     sarifText{Text: title},
		FullDescription:      sarifText{Text: title},
		Help:                 sarifHelp{Text: help, Markdown: "**" + id + "**: " + title},
		DefaultConfiguration: sarifConfig{Level: level},
		Properties:           map[string]any{"tags": append([]string{"security"}, profiles...)},
	}
}

// sarifName turns "ssh.authorized-keys" into "SshAuthorizedKeys".
func sarifName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sarifLevel(l rules.Level) (kind, level string) {
	switch l {
	case rules.Fail:
		return "fail", "error"
	case rules.Error:
		return "fail", "error"
	case rules.Warn:
		return "fail", "warning"
	case rules.Info:
		return "informational", "none"
	case rules.Skip:
		return "notApplicable", "none"
	}
	return "pass", "none"
}

// artifactURI is the image path as a URI reference: relative paths stay
// relative (so GitHub can match them to the repository), absolute ones
// become file: URIs, and every segment is percent-encoded.
func artifactURI(p string) string {
	p = filepath.ToSlash(p)
	u := url.URL{Path: p}
	if strings.HasPrefix(p, "/") {
		u.Scheme = "file"
	}
	return u.String()
}

// fingerprint identifies a finding across scans by (rule, subject); GitHub
// adds the artifact URI itself.
func fingerprint(rule, subject string) map[string]string {
	h := sha256.Sum256([]byte(rule + "\x00" + subject))
	return map[string]string{"imgcheckFinding/v1": hex.EncodeToString(h[:16])}
}
