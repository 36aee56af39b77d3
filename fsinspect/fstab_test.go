package fsinspect

import (
	"reflect"
	"testing"

	"github.com/imgcheck/imgcheck/image"
)

func TestParseFstab(t *testing.T) {
	text := `# /etc/fstab: static file system information.
UUID=2f3e4d5c-6b7a-4980-91a2-b3c4d5e6f708 /               ext4    errors=remount-ro 0       1
LABEL=var	/var ext4 defaults,nofail 0 2

/dev/vda15 /boot/efi vfat umask=0077 0 1
/swapfile none swap sw 0 0
tmpfs /tmp tmpfs
/srv/my\040data /mnt/my\040data
   # indented comment
lonely
`
	got, err := ParseFstab([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []FstabEntry{
		{"UUID=2f3e4d5c-6b7a-4980-91a2-b3c4d5e6f708", "/", "ext4", "errors=remount-ro"},
		{"LABEL=var", "/var", "ext4", "defaults,nofail"},
		{"/dev/vda15", "/boot/efi", "vfat", "umask=0077"},
		{"/swapfile", "none", "swap", "sw"},
		{"tmpfs", "/tmp", "tmpfs", "defaults"},
		{"/srv/my data", "/mnt/my data", "auto", "defaults"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseFstab =\n%q\nwant\n%q", got, want)
	}
	if !got[1].HasOption("nofail") || got[1].HasOption("fail") {
		t.Error("HasOption")
	}
}

func TestParseSpec(t *testing.T) {
	tests := map[string]specKey{
		"UUID=abcd-ef":                       {kind: "UUID", value: "abcd-ef"},
		`UUID="abcd-ef"`:                     {kind: "UUID", value: "abcd-ef"},
		"LABEL=cloudimg-rootfs":              {kind: "LABEL", value: "cloudimg-rootfs"},
		"PARTUUID=1a2b3c4d-02":               {kind: "PARTUUID", value: "1a2b3c4d-02"},
		"PARTLABEL=var":                      {kind: "PARTLABEL", value: "var"},
		"/dev/disk/by-uuid/abcd":             {kind: "UUID", value: "abcd"},
		`/dev/disk/by-label/my\x2fdisk`:      {kind: "LABEL", value: "my/disk"},
		"/dev/disk/by-partuuid/1a2b3c4d-02":  {kind: "PARTUUID", value: "1a2b3c4d-02"},
		"/dev/disk/by-partlabel/root":        {kind: "PARTLABEL", value: "root"},
		"/dev/vda1":                          {kind: "INDEX", index: 1},
		"/dev/sda15":                         {kind: "INDEX", index: 15},
		"/dev/xvda2":                         {kind: "INDEX", index: 2},
		"/dev/nvme0n1p3":                     {kind: "INDEX", index: 3},
		"/dev/vda":                           {kind: "DISK"},
		"/dev/vdb1":                          {},
		"/dev/mapper/vg-root":                {kind: "DMNAME", value: "vg-root"},
		"/dev/vg/root":                       {kind: "LVPATH", value: "vg/root"},
		"/dev/disk/by-id/dm-uuid-LVM-abc":    {kind: "DMUUID", value: "abc"},
		"/dev/disk/by-id/scsi-0DO_Volume_v1": {},
		"tmpfs":                              {},
	}
	for spec, want := range tests {
		if got := parseSpec(spec); got != want {
			t.Errorf("parseSpec(%q) = %+v, want %+v", spec, got, want)
		}
	}
}

func TestLayoutMatch(t *testing.T) {
	l := &Layout{
		Table: &image.Table{Scheme: image.GPT, Partitions: []image.Partition{
			{Index: 1, Type: "BIOS boot"},
			{Index: 2, UUID: "0FC63DAF-8483-4772-8E79-3D69D8477DE4", Name: "root"},
			{Index: 3, UUID: "A1B2C3D4-0000-4000-8000-000000000003", Name: "var"},
		}},
		Filesystems: []FSInfo{
			{Partition: 1},
			{Partition: 2, Type: "ext4", UUID: "2f3e4d5c-6b7a-4980-91a2-b3c4d5e6f708", Label: "cloudimg-rootfs"},
			{Partition: 3, Type: "ext4", UUID: "66666666-7777-4888-9999-aaaaaaaaaaaa", Label: "var"},
		},
	}
	for spec, want := range map[string]int{
		"UUID=2F3E4D5C-6B7A-4980-91A2-B3C4D5E6F708": 1,
		"LABEL=var": 2,
		"LABEL=VAR": -1,
		"PARTUUID=a1b2c3d4-0000-4000-8000-000000000003": 2,
		"PARTLABEL=root": 1,
		"/dev/vda3":      2,
		"/dev/sda2":      1,
		"/dev/vda4":      -1,
		"/dev/disk/by-uuid/66666666-7777-4888-9999-aaaaaaaaaaaa": 2,
		"/dev/vda": -1,
		"UUID=":    -1,
		"LABEL=":   -1,
	} {
		if got := l.match(spec); got != want {
			t.Errorf("match(%q) = %d, want %d", spec, got, want)
		}
	}
	bare := &Layout{
		Table:       &image.Table{Scheme: image.None, Partitions: []image.Partition{{Index: 1}}},
		Filesystems: []FSInfo{{Partition: 1, Type: "ext4", UUID: "x"}},
	}
	if bare.match("/dev/vda") != 0 || bare.match("/dev/vda1") != -1 {
		t.Error("a bare filesystem is /dev/vda, not /dev/vda1")
	}
}

// FuzzParseFstab: any text parses without a panic, and every entry has a
// source, a mount point, a type and options.
func FuzzParseFstab(f *testing.F) {
	f.Add([]byte("UUID=x / ext4 defaults 0 1\n/dev/vda1\t/boot ext4\n# c\n\\040 \\0 \\777 x\n"))
	f.Add([]byte("LABEL=\"a\\x2fb\" /var\n/dev/disk/by-label/a\\x2 /x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseFstab(data)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Spec == "" || e.File == "" || e.Type == "" || e.Options == "" {
				t.Errorf("incomplete entry %+v", e)
			}
			parseSpec(e.Spec)
		}
	})
}
