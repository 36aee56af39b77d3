// Package initramfs reads the file names of a Linux initramfs the way the
// kernel unpacks it (init/initramfs.c): cpio "newc" archives, one after
// the other, separated by NUL padding, each either stored or compressed
// (gzip, zstd, xz, lz4 in the kernel's legacy framing, bzip2), an
// uncompressed early-microcode archive usually coming first. It never
// extracts anything: it lists names until the caller has found what it
// wants, within Limits on the bytes decompressed, the entries, the name
// lengths and the decompressors' memory.
//
// The cpio reader is our own, a few dozen lines: the maintained Go readers
// do not fit a stream from an untrusted image. github.com/cavaliergopher/cpio
// reads a stream but turns malformed hex fields into 0 (a corrupt header
// reads as an empty file) and reports no offsets; u-root's pkg/cpio needs
// an io.ReaderAt, so the decompressed archive would have to be held whole.
// xz segments are read by image.NewXZStreamReader, which checks each
// block's dictionary size against Limits before ulikunitz/xz allocates it
// and stops at the stream's footer, so that segments after it are read.
package initramfs
