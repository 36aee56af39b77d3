package rules

import (
	"regexp"
	"strings"
)

// The redactor is the last line of defence: rules never put secrets into
// findings, and whatever slips through anyway is masked here, in every
// output format and every verb (cat, info, ls, diff).
var redactions = []struct {
	need string // a literal every match holds: the pattern is not run without it
	re   func() *regexp.Regexp
	repl string
}{
	// Private keys, whole armoured block or a dangling header: PEM and
	// PKCS#8 ("-----BEGIN RSA PRIVATE KEY-----"), OpenSSH, PGP ("PGP
	// PRIVATE KEY BLOCK") and ssh.com's SSH2 ("---- BEGIN SSH2 ENCRYPTED
	// PRIVATE KEY ----").
	{"PRIVATE KEY", lazyRegexp(`-{4,5} ?BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)? ?-{4,5}(?s:.*?)(-{4,5} ?END [A-Z0-9 ]*PRIVATE KEY( BLOCK)? ?-{4,5}|$)`), "[redacted ${1}private key]"},
	{"PuTTY-User-Key-File-", lazyRegexp(`PuTTY-User-Key-File-\d+:(?s:.*)`), "[redacted PuTTY private key]"},
	// crypt(3) hashes: $id$[params$]salt$hash, including locked "!$6$...",
	// SunMD5's "$md5,rounds=N$" and the modular schemes the scan names.
	{"$", lazyRegexp(`\$(1|2[abxy]?|5|6|7|y|gy|sha1|md5|argon2(?:i|d|id))((?:,rounds=\d+)?)\$[^\s:'"]+`), "[redacted $$$1$$ hash]"},
	// Traditional DES (13 characters) and BSDi (_ and 19 characters)
	// hashes, recognised as the password field of a shadow or passwd
	// line ("name:hash:"), locked or not.
	{":", lazyRegexp(`(?m)^([^:\s]+:[!*]*)(?:[./0-9A-Za-z]{13}|_[./0-9A-Za-z]{19})(:|$)`), "${1}[redacted crypt hash]${2}"},
	// DigitalOcean API, OAuth and refresh tokens.
	{"_v1_", lazyRegexp(`\bdo[opr]_v1_[0-9a-fA-F]{16,}`), "[redacted token]"},
	// The password component of a URL.
	{"://", lazyRegexp(`([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):[^\s@/]*@`), "${1}:****@"},
	// A password given as name=value: a URL query (?password=), a
	// command-line flag (--password=), an environment variable, a CIFS or
	// SMB mount option (password=, password2=, pass=).
	{"=", lazyRegexp(`(?i)(\b(?:password2?|passwd|pass|pwd|mysql_pwd|pgpassword)=)("[^"]*"|'[^']*'|[^\s&;'"]+)`), "${1}****"},
	// mount.cifs's username=USER%PASSWORD (also user=).
	{"%", lazyRegexp(`(?i)(\buser(?:name)?=[^%,\s]*)%[^,\s]+`), "${1}%****"},
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
		if strings.Contains(s, r.need) {
			s = r.re().ReplaceAllString(s, r.repl)
		}
	}
	return s
}
