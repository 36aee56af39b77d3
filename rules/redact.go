package rules

import (
	"regexp"
	"strings"
)

// The redactor is the last line of defence: rules never put secrets into
// findings, and whatever slips through anyway is masked here, in every
// output format and every verb (cat, info, ls, diff).
var redactions = []struct {
	need func(s string) bool // true of every string the pattern matches: the pattern is not run without it
	re   func() *regexp.Regexp
	repl string
}{
	// Private keys, whole armoured block or a dangling header: PEM and
	// PKCS#8 ("-----BEGIN RSA PRIVATE KEY-----"), OpenSSH, PGP ("PGP
	// PRIVATE KEY BLOCK") and ssh.com's SSH2 ("---- BEGIN SSH2 ENCRYPTED
	// PRIVATE KEY ----").
	{holds("PRIVATE KEY"), lazyRegexp(`-{4,5} ?BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)? ?-{4,5}(?s:.*?)(-{4,5} ?END [A-Z0-9 ]*PRIVATE KEY( BLOCK)? ?-{4,5}|$)`), "[redacted ${1}private key]"},
	{holds("PuTTY-User-Key-File-"), lazyRegexp(`PuTTY-User-Key-File-\d+:(?s:.*)`), "[redacted PuTTY private key]"},
	// crypt(3) hashes: $id$[params$]salt$hash, including locked "!$6$...",
	// SunMD5's "$md5,rounds=N$" and the modular schemes the scan names.
	{holds("$"), lazyRegexp(`\$(1|2[abxy]?|5|6|7|y|gy|sha1|md5|argon2(?:i|d|id))((?:,rounds=\d+)?)\$[^\s:'"]+`), "[redacted $$$1$$ hash]"},
	// Traditional DES (13 characters) and BSDi (_ and 19 characters)
	// hashes, recognised as the password field of a shadow or passwd
	// line ("name:hash:"), locked or not.
	{mayHoldDESHash, lazyRegexp(`(?m)^([^:\s]+:[!*]*)(?:[./0-9A-Za-z]{13}|_[./0-9A-Za-z]{19})(:|$)`), "${1}[redacted crypt hash]${2}"},
	// DigitalOcean API, OAuth and refresh tokens.
	{holds("_v1_"), lazyRegexp(`\bdo[opr]_v1_[0-9a-fA-F]{16,}`), "[redacted token]"},
	// The password component of a URL.
	{holds("://"), lazyRegexp(`([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):[^\s@/]*@`), "${1}:****@"},
	// A password given as name=value: a URL query (?password=), a
	// command-line flag (--password=), an environment variable, a CIFS or
	// SMB mount option (password=, password2=, pass=).
	{mayHoldPasswordOption, lazyRegexp(`(?i)(\b(?:password2?|passwd|pass|pwd|mysql_pwd|pgpassword)=)("[^"]*"|'[^']*'|[^\s&;'"]+)`), "${1}****"},
	// mount.cifs's username=USER%PASSWORD (also user=).
	{holds("%"), lazyRegexp(`(?i)(\buser(?:name)?=[^%,\s]*)%[^,\s]+`), "${1}%****"},
}

// Redact masks anything in s that looks like a secret: private-key
// blocks (PEM, PKCS#8, OpenSSH, PuTTY, PGP, SSH2), the crypt(3) hashes
// the scan recognises (md5crypt, bcrypt, sha256/512crypt, scrypt,
// yescrypt, gost-yescrypt, sun-md5, sha1crypt, argon2, and descrypt and
// bsdicrypt in a password field), DigitalOcean tokens, the password of a
// URL, name=value passwords and mount options that carry one (password=,
// pass=, username=user%password). Every report writer applies it to what
// it prints, and the CLI to what it prints itself (cat, info, ls, diff).
func Redact(s string) string {
	for _, r := range redactions {
		if r.need(s) {
			s = r.re().ReplaceAllString(s, r.repl)
		}
	}
	return s
}

// holds returns a test for the literal lit.
func holds(lit string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, lit) }
}

// mayHoldDESHash reports whether s has what a descrypt or bsdicrypt
// password field needs: a run of at least 13 characters of [./0-9A-Za-z]
// after a colon (and any of "!*_"), ending at a colon, a newline or the
// end of s. Most findings hold a colon, so a bare colon would run the
// pattern on nearly all of them.
func mayHoldDESHash(s string) bool {
	start := 0 // where the current run of hash characters began
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isHashChar(s[i]) {
			continue
		}
		if i-start >= 13 && (i == len(s) || s[i] == ':' || s[i] == '\n') {
			before := strings.TrimRight(s[:start], "!*_")
			if strings.HasSuffix(before, ":") {
				return true
			}
		}
		start = i + 1
	}
	return false
}

// isHashChar reports whether c is in crypt(3)'s alphabet [./0-9A-Za-z].
func isHashChar(c byte) bool {
	return c == '.' || c == '/' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// passwordNames are the option names the name=value pattern knows.
var passwordNames = []string{"password", "password2", "passwd", "pass", "pwd", "mysql_pwd", "pgpassword"}

// mayHoldPasswordOption reports whether s has what a name=value password
// needs: an "=" right after one of passwordNames, in any case.
func mayHoldPasswordOption(s string) bool {
	for i := strings.IndexByte(s, '='); i >= 0; {
		for _, name := range passwordNames {
			if endsWithFold(s[:i], name) {
				return true
			}
		}
		next := strings.IndexByte(s[i+1:], '=')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

// endsWithFold reports whether s ends with the lower-case ASCII name as
// the case-insensitive pattern sees it: letters in either case, and "s"
// also as the long s (U+017F) that Unicode case folding maps to it.
func endsWithFold(s, name string) bool {
	for j := len(name) - 1; j >= 0; j-- {
		c := name[j]
		switch {
		case c == 's' && strings.HasSuffix(s, "\u017f"):
			s = s[:len(s)-len("\u017f")]
		case s == "":
			return false
		case s[len(s)-1] == c || 'a' <= c && c <= 'z' && s[len(s)-1] == c-'a'+'A':
			s = s[:len(s)-1]
		default:
			return false
		}
	}
	return true
}
