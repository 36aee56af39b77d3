package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	HelpURI              string         `json:"helpUri"`
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

// sarifPhysical names the image file with no region: a disk image has no
// lines, and a region would make code scanning read the file (gigabytes)
// to fingerprint the line.
type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
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
// reportingDescriptor per rule ID with its help (the fix and a link to the
// rule's section of docs/rules.md) and security-severity, and one result
// per FAIL, ERROR and WARN finding. Each result is located by the image
// file's URI (the artifact, without a region) and by the guest path or
// user as a logical location, so results of several images stay apart;
// partialFingerprints.primaryLocationLineHash hashes (image, rule,
// subject), so GitHub never reads the image to fingerprint a line. With
// SARIFAll, PASS, INFO and SKIP findings are results too, of kind pass,
// informational and notApplicable with level none. Waived findings carry
// an external suppression.
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
	addRule := func(f rules.Finding) int {
		i, ok := ruleIndex[f.Rule]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			ruleIndex[f.Rule] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleFor(f.Rule))
		}
		run.Tool.Driver.Rules[i].saw(f)
		return i
	}
	for i := range reports {
		im := &reports[i]
		uri := artifactURI(im.Path)
		idx := len(run.Artifacts)
		run.Artifacts = append(run.Artifacts, sarifArtifact{Location: sarifArtifactLocation{URI: uri}})
		loc := func(subject string) []sarifLocation {
			l := sarifLocation{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifactLocation{URI: uri, Index: &idx},
			}}
			if subject != "" {
				kind := "object"
				if strings.HasPrefix(subject, "/") {
					kind = "resource"
				}
				l.LogicalLocations = []sarifLogical{{Name: rules.Redact(subject), FullyQualifiedName: rules.Redact(subject), Kind: kind}}
			}
			return []sarifLocation{l}
		}
		if im.Err != nil {
			ri := addRule(rules.Finding{Rule: ImageUnreadable, Level: rules.Error})
			run.Results = append(run.Results, sarifResult{
				RuleID: ImageUnreadable, RuleIndex: ri, Kind: "fail", Level: "error",
				Message:             sarifText{Text: rules.Redact(im.Path + ": " + oneLine(im.Err.Error()))},
				Locations:           loc(""),
				PartialFingerprints: fingerprint(uri, ImageUnreadable, ""),
			})
		}
		for f := range im.findings() {
			if f.Level < rules.Warn && !o.SARIFAll {
				continue
			}
			ri := addRule(f)
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
				Message:             sarifText{Text: rules.Redact(msg)},
				Locations:           loc(f.Subject),
				PartialFingerprints: fingerprint(uri, f.Rule, f.Subject),
				Properties:          map[string]any{"image": rules.Redact(im.Path), "imgcheckLevel": f.Level.String()},
			}
			if f.Approximate {
				r.Properties["approximate"] = true
			}
			if f.Waived {
				r.Suppressions = []sarifSuppression{{Kind: "external", Justification: rules.Redact(f.WaiverReason)}}
			}
			run.Results = append(run.Results, r)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}})
}

// ImageUnreadable is the pseudo-rule of an image that could not be
// opened or scanned at all: reports name it where a rule's findings would
// be.
const ImageUnreadable = "image.unreadable"

// ImageNoRoot is the pseudo-rule that stands, in cross-image summaries,
// for the guest rules an image without a readable root filesystem could
// not run.
const ImageNoRoot = "image.no-root"

// pseudoRuleTitles describe the pseudo-rules in rule listings.
var pseudoRuleTitles = map[string]string{
	ImageUnreadable: "The image could be opened and read (container, partition table, no timeout)",
	ImageNoRoot:     "The image has a readable root filesystem (guest rules not evaluated)",
}

// PseudoRules are the rules reports name that no check implements:
// ImageUnreadable and ImageNoRoot, in both profiles.
func PseudoRules() []rules.Rule {
	both := []rules.Profile{rules.Marketplace, rules.ImgCheck}
	return []rules.Rule{
		{ID: ImageUnreadable, Title: pseudoRuleTitles[ImageUnreadable], Profiles: both},
		{ID: ImageNoRoot, Title: pseudoRuleTitles[ImageNoRoot], Profiles: both},
	}
}

// RuleDocURI is where a rule's section of the rule reference is, for
// SARIF helpUri and the HTML report.
func RuleDocURI(id string) string {
	return "https://github.com/imgcheck/imgcheck/blob/main/docs/rules.md#" + strings.ReplaceAll(id, ".", "")
}

func sarifRuleFor(id string) sarifRule {
	title := cmp.Or(pseudoRuleTitles[id], id)
	if r, ok := rules.Lookup(id); ok {
		title = cmp.Or(r.Title, id)
	}
	full, help := title+".", title+"."
	if d, ok := rules.LookupDoc(id); ok {
		full = title + ". " + d.Why
		help = d.Why + "\nFix: " + d.Fix
	}
	return sarifRule{
		ID:                   id,
		Name:                 sarifName(id),
		HelpURI:              RuleDocURI(id),
		ShortDescription:     sarifText{Text: title},
		FullDescription:      sarifText{Text: full},
		Help:                 sarifHelp{Text: help + "\nReference: " + RuleDocURI(id)},
		DefaultConfiguration: sarifConfig{Level: "warning"},
		Properties:           map[string]any{"tags": []string{"security", "marketplace"}, "precision": "high"},
	}
}

// saw folds finding f into the rule's metadata: the worst level it was
// seen at sets the default level and security-severity (FAIL and ERROR
// high, WARN medium, otherwise low), and each distinct fix is added to the
// help.
func (r *sarifRule) saw(f rules.Finding) {
	severity, level := "2.0", "note"
	switch f.Level {
	case rules.Fail, rules.Error:
		severity, level = "8.0", "error"
	case rules.Warn:
		severity, level = "5.0", "warning"
	}
	if old, ok := r.Properties["security-severity"].(string); !ok || old < severity {
		r.Properties["security-severity"] = severity
		r.DefaultConfiguration.Level = level
	}
	if fix := rules.Redact(oneLine(f.Fix)); fix != "" && !strings.Contains(r.Help.Text, fix) {
		r.Help.Text += "\nFix: " + fix
	}
	r.Help.Markdown = fmt.Sprintf("**%s**: %s\n\n%s\n\n[Rule reference](%s)", r.ID, r.ShortDescription.Text, strings.ReplaceAll(helpFixes(r.Help.Text), "\n", "\n\n"), r.HelpURI)
}

// helpFixes is the fix lines of a help text.
func helpFixes(help string) string {
	var fixes []string
	for _, l := range strings.Split(help, "\n") {
		if strings.HasPrefix(l, "Fix: ") {
			fixes = append(fixes, l)
		}
	}
	return strings.Join(fixes, "\n")
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

// fingerprint identifies a finding across scans by (image, rule,
// subject): primaryLocationLineHash is the one code scanning reads (given,
// it never computes one from the file), imgcheckFinding/v1 the same hash
// without the image.
func fingerprint(uri, rule, subject string) map[string]string {
	h := sha256.Sum256([]byte(uri + "\x00" + rule + "\x00" + subject))
	g := sha256.Sum256([]byte(rule + "\x00" + subject))
	return map[string]string{
		"primaryLocationLineHash": hex.EncodeToString(h[:8]) + ":1",
		"imgcheckFinding/v1":      hex.EncodeToString(g[:16]),
	}
}
