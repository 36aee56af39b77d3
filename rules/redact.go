package rules

import "regexp"

// The redactor is the last line of defence of RULES.md §1.2: rules never put
// secrets into findings, and whatever slips through anyway is masked by
// every writer of findings (rules/report, the img_check frame).
var redactions = []struct {
	re   *regexp.Regexp
	repl string
}{
	// PEM and OpenSSH private keys, whole block or a dangling header.
	{regexp.MustCompile(`-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?s:.*?)(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`), "[redacted ${1}private key]"},
	{regexp.MustCompile(`PuTTY-User-Key-File-\d+:(?s:.*)`), "[redacted PuTTY private key]"},
	// crypt(3) hashes: $id$[params$]salt$hash, including locked "!$6$...".
	{regexp.MustCompile(`\$(1|2[abxy]?|5|6|7|y|gy|sha1|md5|argon2(?:i|d|id))\$[^\s:'"]+`), "[redacted $$$1$$ hash]"},
	// DigitalOcean API, OAuth and refresh tokens.
	{regexp.MustCompile(`\bdo[opr]_v1_[0-9a-fA-F]{16,}`), "[redacted token]"},
	// The password component of a URL.
	{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):[^\s@/]*@`), "${1}:****@"},
	// A password given as name=value: a URL query (?password=), a
	// command-line flag (--password=), an environment variable.
	{regexp.MustCompile(`(?i)(\b(?:password|passwd|pwd|mysql_pwd|pgpassword)=)("[^"]*"|'[^']*'|[^\s&;'"]+)`), "${1}****"},
}

// Redact masks anything in s that looks like a secret: private-key
// blocks, crypt(3) password hashes, DigitalOcean tokens, the password
// of a URL and name=value passwords. Every report writer applies it to
// what it prints.
func Redact(s string) string {
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}
