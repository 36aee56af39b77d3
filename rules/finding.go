package rules

import (
	"fmt"
	"strings"
)

// Level is the outcome of one check.
type Level int

// Levels, ordered so that a higher value is more severe for exit-code decisions
// among PASS/INFO/SKIP/WARN/FAIL. ERROR is handled separately.
const (
	Pass Level = iota
	Info
	Skip
	Warn
	Fail
	Error
)

var levelNames = [...]string{"pass", "info", "skip", "warn", "fail", "error"}

// String returns the lower-case name used in JSON ("pass", "warn", ...).
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// Tag returns the bracketed tag printed in text reports ("[PASS]", "[INFO]").
func (l Level) Tag() string { return "[" + strings.ToUpper(l.String()) + "]" }

// MarshalText implements encoding.TextMarshaler.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *Level) UnmarshalText(b []byte) error {
	lv, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = lv
	return nil
}

// ParseLevel parses a level name, case-insensitively.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(s, n) {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("unknown level %q (want pass, info, skip, warn, fail or error)", s)
}

// Skip reasons.
const (
	NotApplicable = "not-applicable"
	NotEvaluable  = "not-evaluable"
)

// KV is one evidence pair. Evidence is ordered, so it is a slice of KV.
type KV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Evidence keys.
const (
	KeyPath        = "path"
	KeyUser        = "user"
	KeyUID         = "uid"
	KeyLine        = "line"
	KeyPackage     = "package"
	KeyVersion     = "version"
	KeyCandidate   = "candidate"
	KeySuite       = "suite"
	KeyDate        = "date"
	KeySize        = "size"
	KeyMode        = "mode"
	KeyMtime       = "mtime"
	KeyCount       = "count"
	KeyKeyType     = "key_type"
	KeyFingerprint = "fingerprint"
	KeyScheme      = "scheme"
	KeyValue       = "value"
	KeySource      = "source"
	KeyDigest      = "digest"
	KeyReason      = "reason"
)

// Finding is one result of one rule about one subject.
type Finding struct {
	Rule        string `json:"rule"`
	Level       Level  `json:"level"`
	Message     string `json:"message"`
	Subject     string `json:"subject,omitempty"`
	Evidence    []KV   `json:"evidence"`
	Fix         string `json:"fix,omitempty"`
	SkipReason  string `json:"skip_reason,omitempty"`
	Approximate bool   `json:"approximate,omitempty"`
	// Waived is set by the report layer when a waiver matched.
	Waived       bool   `json:"waived,omitempty"`
	WaiverReason string `json:"waiver_reason,omitempty"`
}

// Get returns the first evidence value for key, or "".
func (f Finding) Get(key string) string {
	for _, kv := range f.Evidence {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}
