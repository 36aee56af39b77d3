package image

import (
	"strconv"
	"strings"
)

// vmdkDescriptorMagic starts a text descriptor file.
const vmdkDescriptorMagic = "# Disk DescriptorFile"

// A vmdkDescriptor is the part of a VMDK text descriptor that says what
// the disk is made of.
type vmdkDescriptor struct {
	createType string
	parentCID  string // "ffffffff", or absent, for a disk with no parent
	parentHint string // parentFileNameHint
	extents    []vmdkExtentLine
}

// A vmdkExtentLine is one extent description:
// access sectors type ["file" [offset]].
type vmdkExtentLine struct {
	line    int // 1-based, for errors
	access  string
	sectors int64
	kind    string
	file    string
	offset  int64 // sectors into the file, for FLAT and VMFS extents
}

// parseVMDKDescriptor parses descriptor text, at most maxExtents extent
// lines. Unknown keys and the disk database (ddb.*) are ignored; a line
// that is neither a key, a comment nor an extent is an error.
func parseVMDKDescriptor(text string, maxExtents int) (*vmdkDescriptor, error) {
	d := &vmdkDescriptor{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimRight(line, "\r\x00"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		first, _, _ := strings.Cut(line, " ")
		switch first {
		case "RW", "RDONLY", "NOACCESS":
			if len(d.extents) == maxExtents {
				return nil, vmdkError(-1, ErrUnsupported, "descriptor lists more than %d extents (the vmdk-extents limit)", maxExtents)
			}
			e, err := parseVMDKExtentLine(line, i+1)
			if err != nil {
				return nil, err
			}
			d.extents = append(d.extents, e)
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, vmdkError(-1, ErrFormat, "descriptor line %d is neither a setting nor an extent: %q", i+1, vmdkQuote(line))
		}
		value = strings.TrimSpace(value)
		if unq, err := strconv.Unquote(value); err == nil && strings.HasPrefix(value, `"`) {
			value = unq
		}
		switch strings.TrimSpace(key) {
		case "createType":
			if !vmdkIsName(value) {
				return nil, vmdkError(-1, ErrFormat, "descriptor line %d: createType %q is not a name", i+1, vmdkQuote(value))
			}
			d.createType = value
		case "parentCID":
			d.parentCID = value
		case "parentFileNameHint":
			d.parentHint = value
		}
	}
	return d, nil
}

// parseVMDKExtentLine parses `access sectors type ["file" [offset]]`.
func parseVMDKExtentLine(line string, n int) (vmdkExtentLine, error) {
	bad := func(why string) (vmdkExtentLine, error) {
		return vmdkExtentLine{}, vmdkError(-1, ErrFormat, "descriptor line %d: %s: %q", n, why, vmdkQuote(line))
	}
	e := vmdkExtentLine{line: n}
	fields := strings.Fields(line)
	if len(fields) < 3 {
		return bad("an extent needs access, size and type")
	}
	e.access, e.kind = fields[0], fields[2]
	sectors, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || sectors <= 0 {
		return bad("extent size is not a positive number of sectors")
	}
	e.sectors = sectors
	// The rest, after the third field, is an optional quoted file name
	// (which may hold spaces) and an optional offset.
	rest := line
	for range 3 {
		rest = strings.TrimLeft(rest, " \t")
		rest = rest[strings.IndexAny(rest+" ", " \t"):]
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return e, nil
	}
	if !strings.HasPrefix(rest, `"`) {
		return bad("extent file name is not quoted")
	}
	end := strings.IndexByte(rest[1:], '"')
	if end < 0 {
		return bad("extent file name has no closing quote")
	}
	e.file, rest = rest[1:1+end], strings.TrimSpace(rest[2+end:])
	if rest != "" {
		off, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || off < 0 {
			return bad("extent offset is not a number of sectors")
		}
		e.offset = off
	}
	return e, nil
}

// vmdkQuote shortens guest-supplied text for an error message.
func vmdkQuote(s string) string {
	const maxLen = 120
	if len(s) > maxLen {
		return s[:maxLen] + "..."
	}
	return s
}

// vmdkIsName reports whether s is a plain name of letters, digits and
// underscores, at most 64 bytes: safe to print.
func vmdkIsName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
