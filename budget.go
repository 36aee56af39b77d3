package imgcheck

import (
	"context"
	"fmt"
	"time"
)

// DefaultTimeout is the time budget of one image in every verb that opens
// one (scan, info, ls, cat, diff): a hostile image that makes a reader
// loop, or a server that stalls, ends in an error instead of a hang.
// The command's --timeout flag changes it; 0 means no limit.
const DefaultTimeout = 10 * time.Minute

// A TimeoutError is work on an image stopped by its time budget.
type TimeoutError struct {
	After time.Duration
}

func (e *TimeoutError) Error() string { return fmt.Sprintf("timed out after %s", e.After) }

// Within runs fn with ctx bounded by timeout (no bound when timeout is 0
// or less) and returns fn's error, or a *TimeoutError once the deadline
// passes, even while fn is stuck in a read that does not watch ctx: fn
// then finishes in the background and its result is dropped. A panic in
// fn becomes an "internal error".
func Within(ctx context.Context, timeout time.Duration, fn func(context.Context) error) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("internal error: %v", r)
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return &TimeoutError{timeout}
		}
		return fmt.Errorf("stopped: %w", ctx.Err())
	}
}
