package facts

// Family is an OS family. The empty Family means "any".
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
