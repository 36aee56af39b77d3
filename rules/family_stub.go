package rules

// Family decides the OS family (RULES.md §0.2).
// STUB: replaced by the OS-facts implementation (facts_os.go).
func (f *Facts) Family() (Family, error) { return Unknown, errNoGuest }
