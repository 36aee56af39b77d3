package image

import (
	"fmt"
	"os"
)

// openQCOW2 opens a qcow2 container. STUB until the qcow2 work lands.
func openQCOW2(f *os.File, path string, o *options) (*Image, error) {
	return nil, &FormatError{Format: "qcow2", Reason: "qcow2 is not supported yet", Err: ErrUnsupported}
}

var _ = fmt.Sprintf
