package facts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imgcheck/imgcheck/fsinspect"
)

// copyBlock is the unit copyToHost checks for zeros: blocks of zeros
// become holes in the copy instead of written bytes.
const copyBlock = 4096

var zeroBlock [copyBlock]byte

// copyToHost copies src into a new file of scratch and returns the
// copy's host path. More than max bytes is an error ("cap reached",
// fsinspect.ErrTooLarge). Blocks that read as zeros (a guest file's
// holes among them) are left as holes, so that a sparse file costs the
// host its data only. Guest reads fail once the scan's context is done,
// which ends the copy; a failed copy leaves no file.
func copyToHost(scratch *Scratch, src io.Reader, max int64) (path string, err error) {
	dst, err := scratch.CreateTemp("copy-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst.Name())
		}
	}()
	buf := make([]byte, 64*copyBlock)
	var off int64
	for {
		n, rerr := io.ReadFull(src, buf)
		if err := writeData(dst, buf[:n], off); err != nil {
			return "", err
		}
		if off += int64(n); off > max {
			return "", fmt.Errorf("%w: over %d bytes, cap reached", fsinspect.ErrTooLarge, max)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return "", rerr
		}
	}
	if err := dst.Truncate(off); err != nil {
		return "", err
	}
	return dst.Name(), nil
}

// writeData writes b at off in f, leaving out its blocks of zeros.
func writeData(f *os.File, b []byte, off int64) error {
	run := -1 // start of the blocks of data not written yet
	for i := 0; i < len(b); i += copyBlock {
		block := b[i:min(i+copyBlock, len(b))]
		switch zero := bytes.Equal(block, zeroBlock[:len(block)]); {
		case !zero && run < 0:
			run = i
		case zero && run >= 0:
			if _, err := f.WriteAt(b[run:i], off+int64(run)); err != nil {
				return err
			}
			run = -1
		}
	}
	if run >= 0 {
		_, err := f.WriteAt(b[run:], off+int64(run))
		return err
	}
	return nil
}
