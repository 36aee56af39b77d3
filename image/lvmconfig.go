package image

import (
	"fmt"
	"strconv"
	"strings"
)

// lvm2 keeps volume group metadata as text in its configuration syntax
// (libdm's config parser): sections `name { ... }`, assignments
// `key = value` where a value is an integer, a float, a quoted string with
// backslash escapes, or an array `[v, v, ...]`, and `#` comments to the end
// of the line. This file parses that syntax into a tree; lvmmeta.go reads
// the volume group out of it.

// maxCfgDepth bounds section nesting; lvm2 metadata nests four deep
// (vg / logical_volumes / lv / segment).
const maxCfgDepth = 16

// A cfgValue is one value of an assignment.
type cfgValue struct {
	kind cfgKind
	num  int64  // cfgInt
	str  string // cfgString, or a cfgFloat's text
	arr  []cfgValue
}

type cfgKind int

const (
	cfgInt cfgKind = iota
	cfgFloat
	cfgString
	cfgArray
)

// A cfgSection is a section's entries in file order: each either an
// assignment (val set) or a subsection (sub set).
type cfgSection struct {
	entries []cfgEntry
}

type cfgEntry struct {
	name string
	val  *cfgValue
	sub  *cfgSection
}

// section returns the subsection called name, or nil.
func (s *cfgSection) section(name string) *cfgSection {
	for _, e := range s.entries {
		if e.sub != nil && e.name == name {
			return e.sub
		}
	}
	return nil
}

// value returns the value assigned to name, or nil.
func (s *cfgSection) value(name string) *cfgValue {
	for _, e := range s.entries {
		if e.val != nil && e.name == name {
			return e.val
		}
	}
	return nil
}

// str returns the string assigned to name, and whether there is one.
func (s *cfgSection) str(name string) (string, bool) {
	v := s.value(name)
	if v == nil || v.kind != cfgString {
		return "", false
	}
	return v.str, true
}

// int returns the integer assigned to name, and whether there is one.
func (s *cfgSection) int(name string) (int64, bool) {
	v := s.value(name)
	if v == nil || v.kind != cfgInt {
		return 0, false
	}
	return v.num, true
}

// strings returns the strings of the array assigned to name (status and
// flags lists); other elements are skipped.
func (s *cfgSection) strings(name string) []string {
	v := s.value(name)
	if v == nil || v.kind != cfgArray {
		return nil
	}
	var out []string
	for _, e := range v.arr {
		if e.kind == cfgString {
			out = append(out, e.str)
		}
	}
	return out
}

// parseConfig parses lvm2 configuration text. Every allocation is bounded
// by the length of text.
func parseConfig(text []byte) (*cfgSection, error) {
	p := &cfgParser{s: text}
	root, err := p.entries(0)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tokEOF {
		return nil, p.errorf(t, "unexpected %s", t)
	}
	return root, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokPunct // one of { } [ ] = ,
)

type token struct {
	kind tokKind
	text string // identifier, unescaped string, number text, punctuation
	off  int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of text"
	case tokString:
		return "string"
	}
	return strconv.Quote(t.text)
}

type cfgParser struct {
	s      []byte
	pos    int
	peeked *token
}

func (p *cfgParser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("metadata text at byte %d: %s", t.off, fmt.Sprintf(format, args...))
}

// entries parses assignments and sections up to a '}' or the end.
func (p *cfgParser) entries(depth int) (*cfgSection, error) {
	if depth > maxCfgDepth {
		return nil, fmt.Errorf("metadata text at byte %d: sections nested deeper than %d", p.pos, maxCfgDepth)
	}
	sec := &cfgSection{}
	for {
		t := p.peek()
		if t.kind == tokEOF || (t.kind == tokPunct && t.text == "}") {
			return sec, nil
		}
		p.next()
		// An LV may be called "0root": a name can scan as a number.
		if t.kind != tokIdent && t.kind != tokString && t.kind != tokNumber {
			return nil, p.errorf(t, "expected a name, found %s", t)
		}
		switch op := p.next(); {
		case op.kind == tokPunct && op.text == "{":
			sub, err := p.entries(depth + 1)
			if err != nil {
				return nil, err
			}
			if c := p.next(); c.kind != tokPunct || c.text != "}" {
				return nil, p.errorf(c, "section %q not closed", t.text)
			}
			sec.entries = append(sec.entries, cfgEntry{name: t.text, sub: sub})
		case op.kind == tokPunct && op.text == "=":
			v, err := p.value(true)
			if err != nil {
				return nil, err
			}
			sec.entries = append(sec.entries, cfgEntry{name: t.text, val: v})
		default:
			return nil, p.errorf(op, "expected '=' or '{' after %q, found %s", t.text, op)
		}
	}
}

// value parses a number, a string, or (when arrays are allowed: lvm2 has
// no nested arrays) an array.
func (p *cfgParser) value(arrays bool) (*cfgValue, error) {
	t := p.next()
	switch {
	case t.kind == tokString:
		return &cfgValue{kind: cfgString, str: t.text}, nil
	case t.kind == tokNumber:
		if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return &cfgValue{kind: cfgInt, num: n}, nil
		}
		if _, err := strconv.ParseFloat(t.text, 64); err == nil {
			return &cfgValue{kind: cfgFloat, str: t.text}, nil
		}
		return nil, p.errorf(t, "bad number %q", t.text)
	case t.kind == tokPunct && t.text == "[" && arrays:
		v := &cfgValue{kind: cfgArray}
		if c := p.peek(); c.kind == tokPunct && c.text == "]" {
			p.next()
			return v, nil
		}
		for {
			e, err := p.value(false)
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, *e)
			switch c := p.next(); {
			case c.kind == tokPunct && c.text == "]":
				return v, nil
			case c.kind != tokPunct || c.text != ",":
				return nil, p.errorf(c, "expected ',' or ']' in array, found %s", c)
			}
		}
	}
	return nil, p.errorf(t, "expected a value, found %s", t)
}

func (p *cfgParser) peek() token {
	if p.peeked == nil {
		t := p.scan()
		p.peeked = &t
	}
	return *p.peeked
}

func (p *cfgParser) next() token {
	t := p.peek()
	p.peeked = nil
	return t
}

// scan reads the next token. A bad string (unterminated) ends the text
// with an error token the parser reports.
func (p *cfgParser) scan() token {
	s := p.s
	for p.pos < len(s) {
		c := s[p.pos]
		switch {
		case c == '#':
			for p.pos < len(s) && s[p.pos] != '\n' {
				p.pos++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0:
			p.pos++
		default:
			return p.scanToken()
		}
	}
	return token{kind: tokEOF, off: p.pos}
}

func (p *cfgParser) scanToken() token {
	s, start := p.s, p.pos
	c := s[start]
	switch {
	case strings.IndexByte("{}[]=,", c) >= 0:
		p.pos++
		return token{kind: tokPunct, text: string(c), off: start}
	case c == '"':
		var b strings.Builder
		for i := start + 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				p.pos = i + 1
				return token{kind: tokString, text: b.String(), off: start}
			default:
				b.WriteByte(s[i])
			}
		}
		p.pos = len(s)
		return token{kind: tokPunct, text: "unterminated string", off: start}
	}
	end := start
	for end < len(s) && !strings.ContainsRune(" \t\r\n#{}[]=,\"\x00", rune(s[end])) {
		end++
	}
	p.pos = end
	text := string(s[start:end])
	if c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') {
		return token{kind: tokNumber, text: text, off: start}
	}
	return token{kind: tokIdent, text: text, off: start}
}
