package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Open opens the image file at path read-only and detects its container by
// magic, never by extension: qcow2 and compressed uploads go to their
// readers, VMDK, VHD, VHDX and VDI are refused with ErrUnsupported, and
// anything else is a raw disk. The caller must Close the Image.
func Open(path string, opts ...Option) (*Image, error) {
	o := makeOptions(opts)
	// O_NONBLOCK: opening a FIFO planted in place of an image must not wait
	// for a writer; the type check below then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() && (st.Mode()&os.ModeDevice == 0 || st.Mode()&os.ModeCharDevice != 0) {
		f.Close()
		return nil, &FormatError{Format: string(Raw), Offset: -1, Reason: fmt.Sprintf("%s is not a regular file or block device", path), Err: ErrFormat}
	}
	size, err := fileSize(f, st)
	if err != nil {
		f.Close()
		return nil, err
	}
	kind, err := detect(f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	var img *Image
	switch kind {
	case Raw:
		c := countFile(f)
		img = newImage(c, size, []Layer{{Format: Raw, Path: path, FileSize: size}}, c)
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && st.Mode().IsRegular() {
			img.allocated = sys.Blocks * 512
		}
		return img, nil
	case QCOW2:
		img, err = openQCOW2(f, path, o)
	case Gzip, Bzip2, XZ, Zstd:
		img, err = openCompressed(f, path, kind, o)
	default:
		err = &FormatError{Format: string(kind), Offset: 0, Reason: "unsupported container format: " + string(kind), Err: ErrUnsupported}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if img.allocated < 0 {
		img.allocated = size
	}
	return img, nil
}

// fileSize returns the size of a regular file or a block device.
func fileSize(f *os.File, st os.FileInfo) (int64, error) {
	if st.Mode().IsRegular() {
		return st.Size(), nil
	}
	return f.Seek(0, io.SeekEnd)
}

// detect reads the magic numbers at the start and end of f.
func detect(f io.ReaderAt, size int64) (Format, error) {
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	head = head[:n]
	has := func(off int, magic string) bool {
		return len(head) >= off+len(magic) && string(head[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "QFI\xfb"):
		return QCOW2, nil
	case has(0, "\x1f\x8b\x08"):
		return Gzip, nil
	case has(0, "BZh") && len(head) >= 10 && head[3] >= '1' && head[3] <= '9' && (has(4, "1AY&SY") || has(4, "\x17rE8P\x90")):
		return Bzip2, nil
	case has(0, "\xfd7zXZ\x00"):
		return XZ, nil
	case has(0, "\x28\xb5\x2f\xfd"):
		return Zstd, nil
	case has(0, "KDMV"), has(0, "COWD"), has(0, "# Disk DescriptorFile"):
		return VMDK, nil
	case has(0, "vhdxfile"):
		return VHDX, nil
	case has(0, "conectix"):
		return VHD, nil
	case has(0, "<<< ") && len(head) >= 0x44 && binary.LittleEndian.Uint32(head[0x40:]) == 0xbeda107f:
		return VDI, nil
	}
	if size >= 512+512 {
		tail := make([]byte, 512)
		if _, err := f.ReadAt(tail, size-512); err != nil {
			return "", err
		}
		// A fixed VHD is a raw disk with a 512-byte footer (511 bytes in
		// files made before Virtual PC 2004).
		if bytes.HasPrefix(tail, []byte("conectix")) || bytes.HasPrefix(tail[1:], []byte("conectix")) {
			return VHD, nil
		}
	}
	return Raw, nil
}
