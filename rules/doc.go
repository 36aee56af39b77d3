// Package rules is the rule engine and the marketplace profile: the
// registry keyed by (profile, rule ID), the engine that runs a selection
// over a guest, the findings, and the marketplace checks grouped by
// catalogue section. Facts come from rules/facts; the img_check profile
// registers itself from rules/imgcheck.
//
// It sees only the guest view (fsinspect.Guest) and plain facts about the
// disk, never image bytes, so every rule runs the same on an image and on a
// live root directory. What each rule checks is in reference.yaml, from
// which docs/rules.md is generated.
package rules
