package image

import "testing"

// FuzzLVMConfig feeds the lvm2 config parser arbitrary text: no panic,
// and a parsed tree never holds more entries than the text has bytes.
func FuzzLVMConfig(f *testing.F) {
	f.Add([]byte("vg {\n\tid = \"a-b\"\n\tseqno = 3\t# comment\n\tstatus = [\"READ\", \"WRITE\"]\n\tf = 1.5\n\tpv {\n\t\tx = []\n\t}\n}\ns = \"q\\\"uote\"\n"))
	f.Add([]byte("a = [1, \"b\", -2]\n0lv { }\n"))
	f.Add([]byte("a {{"))
	f.Fuzz(func(t *testing.T, text []byte) {
		root, err := parseConfig(text)
		if err != nil {
			return
		}
		if n := countEntries(root); n > len(text) {
			t.Fatalf("%d entries from %d bytes", n, len(text))
		}
	})
}

func countEntries(s *cfgSection) int {
	n := len(s.entries)
	for _, e := range s.entries {
		if e.sub != nil {
			n += countEntries(e.sub)
		}
	}
	return n
}
