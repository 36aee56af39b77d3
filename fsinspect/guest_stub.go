package fsinspect

// Guest is the guest filesystem view.
// STUB: replaced by the guest implementation (guest.go).
type Guest struct{}
