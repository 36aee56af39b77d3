package remote

import (
	"fmt"
	"strconv"
	"strings"
)

// A contentRange is a response's "bytes start-end/total": the inclusive
// range it holds and the object's size.
type contentRange struct {
	start, end, total int64
}

func (c contentRange) String() string { return fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, c.total) }

// parseContentRange parses a Content-Range header of a 206 response. A
// total of "*" (unknown size) is refused: the size must be pinned.
func parseContentRange(s string) (contentRange, error) {
	bad := fmt.Errorf("%w: Content-Range %q is not \"bytes first-last/size\"", ErrBadResponse, s)
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return contentRange{}, bad
	}
	rng, total, ok := strings.Cut(rest, "/")
	if !ok {
		return contentRange{}, bad
	}
	first, last, ok := strings.Cut(rng, "-")
	if !ok {
		return contentRange{}, bad
	}
	var c contentRange
	var err1, err2, err3 error
	c.start, err1 = strconv.ParseInt(first, 10, 64)
	c.end, err2 = strconv.ParseInt(last, 10, 64)
	c.total, err3 = strconv.ParseInt(total, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || c.start < 0 || c.end < c.start || c.total <= c.end {
		return contentRange{}, bad
	}
	return c, nil
}
