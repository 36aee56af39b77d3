package ext4

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestDirHash compares dirHash with debugfs dx_hash for every hash
// version, with and without a seed, on ASCII and non-ASCII names of
// lengths around the 16- and 32-byte blocks of TEA and half-MD4.
func TestDirHash(t *testing.T) {
	t.Parallel()
	bin, err := fixtures.Tool("debugfs")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	names := []string{"a", "hello", "sshd_config", "ünïcödé-\xff\x80", "0123456789abcdef", "0123456789abcdef0",
		"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef-", "x\xe9y"}
	for n := 1; n <= 255; n += 37 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + (i*7+n)%26)
			if i%5 == 4 {
				b[i] |= 0x80
			}
		}
		names = append(names, string(b))
	}
	seeds := map[string][4]uint32{
		"":                                     {},
		"1d2c3b4a-5f6e-4d7c-8b9a-a0b1c2d3e4f5": {0x4a3b2c1d, 0x7c4d6e5f, 0xb1a09a8b, 0xf5e4d3c2},
	}
	// debugfs takes the unsigned variants only by number.
	versions := []string{"legacy", "half_md4", "tea", "legacy_unsigned", "half_md4_unsigned", "tea_unsigned"}
	re := regexp.MustCompile(`Hash of .* is 0x([0-9a-f]+)`)
	for seedText, seed := range seeds {
		for v, vname := range versions {
			for _, name := range names {
				args := []string{"-R", fmt.Sprintf(`dx_hash -h %d %s "%s"`, v, seedOpt(seedText), name), "/dev/null"}
				out, _ := exec.Command(bin, args...).CombinedOutput()
				m := re.FindSubmatch(out)
				if m == nil {
					t.Fatalf("debugfs %q: %s", args, out)
				}
				want, _ := strconv.ParseUint(string(m[1]), 16, 32)
				got, ok := dirHash([]byte(name), v, seed)
				if !ok || got != uint32(want) {
					t.Errorf("dirHash(%q, %s, seed %q) = %#x, %v; debugfs says %#x", name, vname, seedText, got, ok, want)
				}
			}
		}
	}
}

func seedOpt(s string) string {
	if s == "" {
		return ""
	}
	return "-s " + s
}
