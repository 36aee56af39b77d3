package rules

import (
	"encoding/json"
	"fmt"
)

// Plan is a Droplet size as the sizes API describes it: disk in the API's
// "GB" unit, memory in MiB, the monthly price in US dollars (0 when unknown).
type Plan struct {
	Slug        string  `json:"slug"`
	Description string  `json:"description,omitempty"`
	VCPUs       int     `json:"vcpus,omitempty"`
	MemoryMiB   int     `json:"memory,omitempty"`
	DiskGB      int64   `json:"disk"`
	PriceUSD    float64 `json:"price_monthly,omitempty"`
}

// Catalogue is a dated list of Droplet sizes: the built-in one, or one
// saved by `imgcheck do sizes --save`. Its JSON has the sizes API's
// {"sizes": [...]} shape, so a catalogue file is also a valid --plans FILE.
type Catalogue struct {
	Taken  string `json:"taken"`  // the date the list was taken, YYYY-MM-DD
	Source string `json:"source"` // where the list came from
	Sizes  []Plan `json:"sizes"`
}

// ParseCatalogue decodes a catalogue and checks that it holds at least
// one plan and that every plan has a slug and a positive disk.
func ParseCatalogue(data []byte) (Catalogue, error) {
	var c Catalogue
	if err := json.Unmarshal(data, &c); err != nil {
		return c, err
	}
	if len(c.Sizes) == 0 {
		return c, fmt.Errorf("no sizes")
	}
	for _, p := range c.Sizes {
		if p.Slug == "" || p.DiskGB <= 0 {
			return c, fmt.Errorf("size %q: needs a slug and a positive disk", p.Slug)
		}
	}
	return c, nil
}

// BuiltinCatalogue is the Droplet size catalogue shipped with imgcheck:
// every CPU Droplet size of the sizes API on the date it names. Its source
// is sizes.json, compiled into sizes_builtin.go (a test keeps the two
// equal) so that no scan pays for decoding it. `imgcheck do sizes --save`
// replaces it with the live list. The Sizes slice is shared: callers copy
// it before changing it.
func BuiltinCatalogue() Catalogue { return builtinCatalogue }
