package xfs

// DefaultMaxDirEntries is how many entries a directory may hold unless
// WithMaxDirEntries says otherwise.
const DefaultMaxDirEntries = 1000000

// An Option changes how New reads a filesystem.
type Option func(*FS)

// WithMaxDirEntries bounds the entries read from one directory: reading a
// directory with more fails with an error wrapping ErrUnsupported, never
// with a partial listing. n <= 0 keeps DefaultMaxDirEntries.
func WithMaxDirEntries(n int) Option {
	return func(fsys *FS) {
		if n > 0 {
			fsys.maxDirEntries = n
		}
	}
}
