package report

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/imgcheck/imgcheck/rules"
)

// maxRedactLine is the longest line RedactStream redacts whole; a longer
// line is cut into pieces of about this size, at a blank or a separator
// where there is one, so that no secret is split.
const maxRedactLine = 1 << 20

// keyBegin and keyEnd are compiled on first use: only cat needs them.
var (
	keyBegin = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`-{4,5} ?BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)? ?-{4,5}`)
	})
	keyEnd = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`-{4,5} ?END [A-Z0-9 ]*PRIVATE KEY( BLOCK)? ?-{4,5}`)
	})
)

// RedactStream copies r to w masked as Redact masks a string, holding one
// line at a time (at most about 1 MiB) instead of the whole input: a
// private-key block becomes one "[redacted ... private key]" line
// whatever its length, and a PuTTY key file hides everything after its
// header. cat prints guest files through it.
func RedactStream(w io.Writer, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	inKey, putty := false, false
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull && len(line) < maxRedactLine {
			continue
		}
		if err == bufio.ErrBufferFull { // an over-long line: redact a piece
			cut := bytes.LastIndexAny(line[len(line)-min(len(line), 4096):], " \t,;&\"'")
			if cut >= 0 {
				cut += len(line) - min(len(line), 4096) + 1
			} else {
				cut = len(line)
			}
			inKey, putty = redactLine(bw, line[:cut], inKey, putty)
			line = append(line[:0], line[cut:]...)
			continue
		}
		if len(line) > 0 {
			inKey, putty = redactLine(bw, line, inKey, putty)
			line = line[:0]
		}
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			bw.Flush()
			return err
		}
	}
}

// redactLine writes one line, masked, and returns whether a private-key
// block or a PuTTY key is still open after it.
func redactLine(w *bufio.Writer, line []byte, inKey, putty bool) (bool, bool) {
	switch {
	case putty:
		return inKey, true
	case inKey:
		return !keyEnd().Match(line), false
	}
	s, nl := strings.CutSuffix(string(line), "\n") // the redactions keep the newline
	if loc := keyBegin().FindStringIndex(s); loc != nil && !keyEnd().MatchString(s[loc[1]:]) {
		inKey = true
	}
	putty = strings.Contains(s, "PuTTY-User-Key-File-")
	w.WriteString(rules.Redact(s))
	if nl {
		w.WriteByte('\n')
	}
	return inKey, putty
}
