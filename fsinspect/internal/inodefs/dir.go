package inodefs

import (
	"fmt"
	"slices"
	"strings"
)

// Entry is one live directory entry.
type Entry struct {
	Name string
	Ino  uint64
	Type uint8 // see entryType; 0 when the filesystem records no type
}

// EntryOverhead is the memory of a parsed entry besides its name: the
// Entry in the slice and the string's allocation rounding. Readers bound
// a directory's memory with it before they parse it all.
const EntryOverhead = 40

// Dir is a parsed directory: its entries without "." and "..", sorted by
// name.
type Dir struct {
	ents []Entry
}

// NewDir sorts ents by name into a Dir. Two entries with the same name
// are an error.
func NewDir(ents []Entry) (*Dir, error) {
	slices.SortFunc(ents, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(ents); i++ {
		if ents[i].Name == ents[i-1].Name {
			return nil, fmt.Errorf("directory has two entries named %q", ents[i].Name)
		}
	}
	return &Dir{ents: ents}, nil
}

// Find returns the entry called name.
func (d *Dir) Find(name string) (Entry, bool) {
	i, ok := slices.BinarySearchFunc(d.ents, name, func(e Entry, n string) int { return strings.Compare(e.Name, n) })
	if !ok {
		return Entry{}, false
	}
	return d.ents[i], true
}

// Cost is the memory the parsed directory holds, its weight in a cache.
func (d *Dir) Cost() int {
	n := EntryOverhead
	for _, e := range d.ents {
		n += EntryOverhead + len(e.Name)
	}
	return n
}
