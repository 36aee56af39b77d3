package rules

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes guest-controlled text safe to print on a terminal: control
// characters (ESC, newline, carriage return, tab, DEL, the C1 range),
// other non-printing runes (bidirectional overrides, zero-width marks) and
// bytes that are not UTF-8 are written as Go escapes ("\x1b", "\n",
// "\u202e", "\xe9"), so that a file name, a user name or an os-release
// field can neither move the cursor, recolour the screen nor start a
// line of its own. Printable text, backslashes included, is unchanged.
// Every human-readable writer (text reports, the batch table, the
// img_check frame, info, ls, cat errors, diff) escapes what the guest
// decides; JSON, SARIF and JUnit are escaped by their encoders.
func Escape(s string) string {
	if printable(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	escapeTo(&b, s, false)
	return b.String()
}

// EscapeBody is Escape for a file body printed as it is: newlines and
// tabs are kept, everything else Escape escapes is escaped.
func EscapeBody(s string) string {
	if printable(strings.NewReplacer("\n", "", "\t", "").Replace(s)) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	escapeTo(&b, s, true)
	return b.String()
}

// printable reports whether s is printable ASCII only, the common case.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func escapeTo(b *strings.Builder, s string, body bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case body && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
}
