package facts

// Family is an OS family (RULES.md §0.2). The empty Family means "any".
type Family string

// Families.
const (
	Any     Family = ""
	Deb     Family = "deb"
	RPM     Family = "rpm"
	Unknown Family = "unknown"
)

// NamedData is a user-supplied input file read by the CLI.
type NamedData struct {
	Name string
	Data []byte
}
