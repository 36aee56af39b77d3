package rules

import (
	"strings"
	"testing"
)

// Tests of the parsers that live beside the checks (secrets, nftables).

func TestNftHookedChainFilters(t *testing.T) {
	cases := map[string]bool{
		"table inet f {\n chain input {\n  type filter hook input priority 0; policy accept;\n }\n}\n":          false,
		"table inet f {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}\n":            true,
		"table inet f {\n chain input { type filter hook input priority 0; ct state established accept; }\n}\n": true,
		"table inet f {\n chain helper {\n  tcp dport 22 accept\n }\n}\n":                                       false,
	}
	for in, want := range cases {
		if got := nftHookedChainFilters(in); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

// FuzzSecretScanners runs the secret and credential scanners over
// arbitrary files: a DATABASE_URL's password never survives redaction,
// and secretNames returns names, never values.
func FuzzSecretScanners(f *testing.F) {
	f.Add([]byte("DATABASE_URL=postgresql://doadmin:Sup3rS3cret@db.example:25060/defaultdb?sslmode=require\nexport TOKEN=dop_v1_abc\n"), "Sup3rS3cret")
	f.Add([]byte("Environment=DATABASE_URL='mysql://u:p@ss:w0rd@h/d'\nmysql -u root --password=hunter2\n"), "p@ss:w0rd")
	f.Add([]byte("DATABASE_URL=\"postgres://u:$PW@h/d\"\nkey: value\n"), "$PW")
	f.Fuzz(func(t *testing.T, data []byte, pw string) {
		for _, u := range findDatabaseURLs(data, false) {
			if u.password && strings.Contains(u.redacted, ":"+pw+"@") && len(pw) > 0 {
				t.Fatalf("redacted URL %q still holds %q", u.redacted, pw)
			}
		}
		findDatabaseURLs(data, true)
		for _, n := range secretNames(data) {
			if !identifier().MatchString(n) {
				t.Fatalf("secretNames returned %q, not a name", n)
			}
		}
		credentialLines(data)
		const prefix, suffix = "postgresql://user:", "@db.example:25060/d"
		if pw == "" || strings.Contains(pw, "@") || strings.Contains(prefix+"****"+suffix, pw) {
			return
		}
		if red, _ := RedactURL(prefix + pw + suffix); strings.Contains(red, pw) {
			t.Fatalf("RedactURL(%q) = %q keeps the password", prefix+pw+suffix, red)
		}
	})
}
