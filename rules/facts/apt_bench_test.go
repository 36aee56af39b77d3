package facts

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ulikunitz/xz"
)

// BenchmarkPackagesIndex decompresses and scans a distribution-sized
// Packages.xz (60,000 stanzas, about 50 MiB plain) for a few installed names.
func BenchmarkPackagesIndex(b *testing.B) {
	var plain bytes.Buffer
	for i := range 60000 {
		fmt.Fprintf(&plain, "Package: pkg%05d\nArchitecture: amd64\nVersion: 1.%d-1\nInstalled-Size: 100\nMaintainer: Someone <someone@example.org>\nDepends: libc6 (>= 2.34), libfoo%d (>= 1.0) | libbar\nFilename: pool/main/p/pkg%05d/pkg%05d_1.%d-1_amd64.deb\nSize: 123456\nSHA256: %064d\nDescription: package number %d\n a long description line that pads the stanza to a realistic size for a Debian index\n .\n and another paragraph line, as real packages have several of them in their descriptions\n\n", i, i, i, i, i, i, i, i)
	}
	var packed bytes.Buffer
	w, _ := xz.NewWriter(&packed)
	w.Write(plain.Bytes())
	w.Close()
	want := map[string]bool{"pkg00001": true, "pkg30000": true, "pkg59999": true}
	b.SetBytes(int64(plain.Len()))
	for b.Loop() {
		out, err := decompressIndex("Packages.xz", packed.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		idx, err := parsePackagesIndex(out, want)
		if err != nil || len(idx) != 3 {
			b.Fatal(err, len(idx))
		}
	}
}

// BenchmarkDpkgStatus parses a dpkg status file of 1,500 installed
// packages (about 2 MB, a full server install) with multi-line
// descriptions and conffiles, as Packages reads /var/lib/dpkg/status.
func BenchmarkDpkgStatus(b *testing.B) {
	var status bytes.Buffer
	for i := range 1500 {
		fmt.Fprintf(&status, "Package: pkg%04d\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 1234\nMaintainer: Someone <someone@example.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: src%04d (1.%d-1)\nVersion: 1.%d-1+b1\nDepends: libc6 (>= 2.34), libfoo%d (>= 1.0) | libbar\nConffiles:\n /etc/pkg%04d/a.conf 0123456789abcdef0123456789abcdef\n /etc/pkg%04d/b.conf 0123456789abcdef0123456789abcdef\nDescription: package number %d\n a long description line that pads the stanza to a realistic size for a Debian status file\n .\n and another paragraph line, as real packages have several of them in their descriptions\nHomepage: https://example.org/pkg%04d\n\n", i, i, i, i, i, i, i, i, i)
	}
	b.SetBytes(int64(status.Len()))
	for b.Loop() {
		pkgs, err := parseDpkgStatus(status.Bytes())
		if err != nil || len(pkgs) != 1500 {
			b.Fatal(err, len(pkgs))
		}
	}
}
