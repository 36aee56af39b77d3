package fsinspect

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// FstabEntry is one line of /etc/fstab.
type FstabEntry struct {
	Spec    string // source: "UUID=…", "LABEL=…", "/dev/vda1", "tmpfs", …
	File    string // mount point, "/" for the root, "none" for swap
	Type    string // filesystem type; "auto" when the line omits it
	Options string // comma-separated options; "defaults" when omitted
}

// HasOption reports whether the comma-separated options include opt.
func (e FstabEntry) HasOption(opt string) bool {
	for o := range strings.SplitSeq(e.Options, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// ParseFstab parses the text of an fstab(5) file. Blank lines and comments
// are skipped, as are lines with fewer than two fields, which mount(8)
// rejects. Octal escapes such as \040 in the source and mount point are
// decoded.
func ParseFstab(data []byte) ([]FstabEntry, error) {
	var out []FstabEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		e := FstabEntry{Spec: unescapeFstab(f[0]), File: unescapeFstab(f[1]), Type: "auto", Options: "defaults"}
		if len(f) > 2 {
			e.Type = f[2]
		}
		if len(f) > 3 {
			e.Options = f[3]
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// unescapeFstab decodes the \NNN octal escapes fstab uses for blanks.
func unescapeFstab(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
