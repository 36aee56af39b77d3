package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/imgcheck/imgcheck/rules"
)

// Merge joins the result sets of the shards of a batch into one, ordered
// by each image's index in the batch's list (then by path). The same image
// path twice is an error naming it: each image belongs to exactly one
// shard, so a duplicate means two runs were mixed.
func Merge(lines []Line) ([]Line, error) {
	seen := map[string]int{}
	for i, l := range lines {
		if j, dup := seen[l.Image.Path]; dup {
			return nil, fmt.Errorf("image %s appears twice (index %d and index %d): merge each shard's results once", rules.Redact(l.Image.Path), lines[j].Index, l.Index)
		}
		seen[l.Image.Path] = i
	}
	out := slices.Clone(lines)
	slices.SortStableFunc(out, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.Index, b.Index), cmp.Compare(a.Image.Path, b.Image.Path))
	})
	return out, nil
}
