package image

import "os"

// openCompressed expands a gzip/bzip2/xz/zstd upload. STUB until that work lands.
func openCompressed(f *os.File, path string, kind Format, o *options) (*Image, error) {
	return nil, &FormatError{Format: string(kind), Reason: "compressed images are not supported yet", Err: ErrUnsupported}
}
