// Package rules is the Marketplace rule catalogue: the registry, the facts
// computed once per guest, the rules themselves and the findings they return.
//
// It sees only the guest view (fsinspect.Guest) and plain facts about the
// disk, never image bytes, so every rule runs the same on an image and on a
// live root directory. The contract is ../shared/RULES.md.
package rules
