package rules

import "testing"

// redactSamples are strings each pattern of the redactor matches, and
// near misses.
var redactSamples = []string{
	"root:abJnggxhB/yWI:19000:0:99999:7:::", "daemon:!abJnggxhB/yWI", "bsd:*_J9..rasmBYk8r9AiWNc:1\n",
	"x:abJnggxhB/yW:1", "Oct 20 09:29:58 debian sshd[612]: Server listening", "a:abJnggxhB/yWI\nb",
	"--password=hunter2", "PASSWD=x", "mysql_pwd='x y'", "PGPASSWORD=\"s\"", "pa\u017f\u017f=x", "PA\u017fSWORD=x",
	"pass", "password: x", "user=me%secret", "https://u:p@host/", "-----BEGIN RSA PRIVATE KEY-----\nx",
	"$6$salt$hash", "dop_v1_0123456789abcdef0123", "PuTTY-User-Key-File-3: ssh-ed25519", "",
	"PasswordAuthentication=yes", "a=b Pwd=c", "x mysql_PWD=1", "password2=z", "u:!*abJnggxhB/yWI", "u:_J9..rasmBYk8r9AiWNc",
}

// TestRedactPrefilters checks that each pattern's cheap test admits every
// string the pattern matches: the tests only skip work, never a secret.
func TestRedactPrefilters(t *testing.T) {
	matched := 0
	for _, s := range redactSamples {
		for _, r := range redactions {
			if r.re().MatchString(s) {
				matched++
				if !r.need(s) {
					t.Errorf("%q matches %s but its test skips it", s, r.re())
				}
			}
		}
	}
	if matched < 15 {
		t.Errorf("only %d sample matches: the samples no longer exercise the patterns", matched)
	}
}

func FuzzRedactPrefilters(f *testing.F) {
	for _, s := range redactSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range redactions {
			if !r.need(s) && r.re().MatchString(s) {
				t.Fatalf("%q matches %s but its test skips it", s, r.re())
			}
		}
	})
}
