package image

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestDetect(t *testing.T) {
	at := func(size int, parts ...any) []byte {
		b := make([]byte, size)
		for i := 0; i < len(parts); i += 2 {
			copy(b[parts[i].(int):], parts[i+1].(string))
		}
		return b
	}
	vdi := at(4096, 0, "<<< Oracle VM VirtualBox Disk Image >>>\n")
	binary.LittleEndian.PutUint32(vdi[0x40:], 0xbeda107f)
	mbr := at(4096, 510, "\x55\xaa")
	tests := []struct {
		name string
		data []byte
		want Format
	}{
		{"raw zeros", make([]byte, 4096), Raw},
		{"raw mbr", mbr, Raw},
		{"short", []byte("ab"), Raw},
		{"empty", nil, Raw},
		{"qcow2", at(4096, 0, "QFI\xfb\x00\x00\x00\x03"), QCOW2},
		{"gzip", at(64, 0, "\x1f\x8b\x08\x00"), Gzip},
		{"bzip2", at(64, 0, "BZh91AY&SY"), Bzip2},
		{"bzip2 text", at(64, 0, "BZh9 is not bzip2"), Raw},
		{"xz", at(64, 0, "\xfd7zXZ\x00"), XZ},
		{"zstd", at(64, 0, "\x28\xb5\x2f\xfd"), Zstd},
		{"vmdk sparse", at(4096, 0, "KDMV"), VMDK},
		{"vmdk descriptor", at(4096, 0, "# Disk DescriptorFile\nversion=1\n"), VMDK},
		{"vhdx", at(4096, 0, "vhdxfile"), VHDX},
		{"vhd dynamic", at(4096, 0, "conectix"), VHD},
		// A fixed VHD is recognised by a valid footer (see vhd_test.go):
		// a stray cookie at the end does not make a raw disk a VHD.
		{"vhd cookie at the end", at(4096, 4096-512, "conectix"), Raw},
		{"vhd cookie at the end old", at(4096, 4096-511, "conectix"), Raw},
		{"vdi", vdi, VDI},
		{"vdi without signature", at(4096, 0, "<<< "), Raw},
	}
	for _, tt := range tests {
		got, err := detect(bytes.NewReader(tt.data), int64(len(tt.data)))
		if err != nil || got != tt.want {
			t.Errorf("%s: detect = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
