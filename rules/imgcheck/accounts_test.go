package imgcheck

import (
	"slices"
	"testing"
)

// passwdBase is the system accounts of a fresh Debian.
const passwdBase = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"

func TestParityUsers(t *testing.T) {
	passwd := passwdBase +
		"alice:x:1000:1000::/home/alice:/bin/bash\n" +
		"centos:x:1001:1001::/home/centos:/bin/bash\n" +
		"nfsnobody:x:65534:65534::/:/sbin/nologin\n" +
		"sys999:x:999:999::/:/bin/sh\n" +
		"spaced:x: 1500 :1::/:/bin/sh\n" +
		"expo:x:1e3:1::/:/bin/sh\n" +
		"word:x:abc:1::/:/bin/sh\n" + // "abc" >= "1000" as strings
		"digits:x:2:1::/:/bin/sh\n" +
		"short:x\n" +
		"\n"
	got := ParityUsers([]byte(passwd), Gawk)
	want := []ParityUser{{Name: "alice", Line: 4}, {Name: "spaced", Line: 8}, {Name: "expo", Line: 9}, {Name: "word", Line: 10}}
	if !slices.Equal(got, want) {
		t.Errorf("ParityUsers = %+v, want %+v", got, want)
	}
	// Checked against mawk 1.3.4 20200120 (Debian 12): strtod takes hex.
	hex := "a:x:0x3E8\nb:x: 0x3e8 \nc:x:0x1p10\nd:x:0x\ne:x:0x3e7\nf:x:+nan\ng:x:nan\nh:x:-inf\n"
	if got, want := ParityUsers([]byte(hex), Mawk), []ParityUser{{"a", 1}, {"b", 2}, {"c", 3}, {"g", 7}}; !slices.Equal(got, want) {
		t.Errorf("mawk: ParityUsers = %+v, want %+v", got, want)
	}
	if got, want := ParityUsers([]byte(hex), Gawk), []ParityUser{{"g", 7}}; !slices.Equal(got, want) {
		t.Errorf("gawk: ParityUsers = %+v, want %+v", got, want)
	}
}

func TestParityShadow(t *testing.T) {
	got := ParityShadow([]byte("root:*:1:0:::\nalice:$6$x$y:1:::\n\nbob::1:\nodd a:!:\x00x\nlone\n"))
	want := []ShadowWord{
		{Name: "root", Field: "*", Line: 1},
		{Name: "alice", Field: "$6$x$y", Line: 2},
		{Name: "bob", Field: "", Line: 4},
		{Name: "odd", Field: "", Line: 5},
		{Name: "a", Field: "!", Line: 5}, // the NUL byte is dropped: the word is "a:!:x"
		{Name: "lone", Field: "", Line: 6},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParityShadow =\n%+v\nwant\n%+v", got, want)
	}
}
