package rules

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/passwd":                "/etc/passwd",
		"caf\xe9":                    `caf\xe9`,
		"café ünïcode":               "café ünïcode",
		"evil\x1b[2J":                `evil\x1b[2J`,
		"a\nb\r\tc\x7f":              `a\nb\r\tc\x7f`,
		"x\u0085y":                   `x\u0085y`,
		"txt.\u202egpj":              `txt.\u202egpj`,
		`back\slash`:                 `back\slash`,
		"\xff\xfe":                   `\xff\xfe`,
		"new\n[PASS] forged line":    `new\n[PASS] forged line`,
		"Ubuntu 22.04\x1b]0;pwn\x07": `Ubuntu 22.04\x1b]0;pwn\a`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := EscapeBody("line 1\tx\nline\x1b[2 2\n"); got != "line 1\tx\nline\\x1b[2 2\n" {
		t.Errorf("EscapeBody = %q", got)
	}
}

// FuzzEscape: whatever the guest writes, the escaped text is valid UTF-8
// with no control character.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "caf\xe9", "\x1b[31mred\x1b[0m", "a\nb", "\u202e", "\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) {
			t.Errorf("Escape(%q) = %q is not UTF-8", s, e)
		}
		if strings.ContainsFunc(e, func(r rune) bool {
			return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd && !strings.ContainsRune(s, 0xfffd)
		}) {
			t.Errorf("Escape(%q) = %q keeps a control character", s, e)
		}
	})
}
