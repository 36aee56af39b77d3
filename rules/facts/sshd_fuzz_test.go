package facts

import (
	"errors"
	"testing"
)

// FuzzSSHDConfig feeds arbitrary configuration text to the parser, with
// every Include resolving to the same text: no panic, no endless nesting.
func FuzzSSHDConfig(f *testing.F) {
	f.Add([]byte("PermitRootLogin no\nMatch User root,!x\n  ForceCommand echo \"please wait\"\n"))
	f.Add([]byte("Include a\n"))
	f.Add([]byte("Include a a a a a a a a\n"))
	f.Add([]byte("match\nmatch user\nmatch host a user\nkeyword=\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &sshdParser{
			read: func(string) ([]byte, error) { return data, nil },
			glob: func(pattern string) ([]string, error) { return []string{pattern}, nil },
		}
		c := &SSHDConfig{Present: true}
		if err := p.parse(c, SSHDConfigPath, data, 0, nil); err != nil && !errors.Is(err, ErrIncludeDepth) && !errors.Is(err, ErrIncludeCount) {
			t.Fatal(err)
		}
		for _, kw := range []string{"PermitRootLogin", "ForceCommand", "AuthorizedKeysFile"} {
			c.ForUser(kw, "root")
			c.Conditional(kw)
		}
	})
}
