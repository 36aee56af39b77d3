package initramfs

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzFind: no input panics, hangs or reads past the limits; a walk either
// ends with an error or reads at most Limits.Bytes of archive.
func FuzzFind(f *testing.F) {
	f.Add(microcode)
	f.Add(mainArchive(true))
	for _, kind := range []string{"gzip", "zstd", "xz", "lz4"} {
		f.Add(cat(microcode, compress(f, kind, mainArchive(true))))
		f.Add(compress(f, kind, mainArchive(false)))
	}
	f.Add(cat(microcode, make([]byte, 8), compress(f, "xz", newc(file("a", "b"))), compress(f, "gzip", newc(file("c", "d")))))
	l := Limits{Bytes: 1 << 20, Entries: 1000, Name: 512, Memory: 8 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		name, sum, err := Find(bytes.NewReader(b), l, isVirtioBlk)
		if sum.Bytes > l.Bytes+cpioHeaderSize+int64(l.Name)+4 || sum.Entries > l.Entries+1 {
			t.Fatalf("read past the limits: %+v", sum)
		}
		if name != "" && err != nil {
			t.Fatalf("a name and an error: %q %v", name, err)
		}
		if errors.Is(err, ErrCap) && name != "" {
			t.Fatal("a cap reached with an answer")
		}
	})
}
