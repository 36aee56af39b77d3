package rules

import (
	"regexp"
	"sync"
)

// lazyRegexp returns expr compiled on first use. Every run of the binary
// pays for what package initialisation compiles, and most patterns serve
// a rule or an input that a run may never reach.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
