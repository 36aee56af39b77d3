package facts

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestEachBoundsAndOrder runs more calls than Concurrency, each holding
// its slot a moment: never more than Concurrency run at once, more than
// one does, and every result lands in its own slot.
func TestEachBoundsAndOrder(t *testing.T) {
	const n = 5 * Concurrency
	var running, peak atomic.Int64
	out := make([]int, n)
	Each(n, func(i int) {
		now := running.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		out[i] = i * i
		running.Add(-1)
	})
	if p := peak.Load(); p > Concurrency || p < 2 {
		t.Errorf("peak concurrency %d, want 2 to %d", p, Concurrency)
	}
	for i, v := range out {
		if v != i*i {
			t.Fatalf("out[%d] = %d, want %d", i, v, i*i)
		}
	}
}

// TestEachPanics raises a call's panic in the caller, after every other
// call has returned.
func TestEachPanics(t *testing.T) {
	var mu sync.Mutex
	done := 0
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want boom", p)
		}
		if done != 19 {
			t.Errorf("%d calls had returned, want 19", done)
		}
	}()
	Each(20, func(i int) {
		if i == 3 {
			panic("boom")
		}
		mu.Lock()
		done++
		mu.Unlock()
	})
	t.Error("Each returned after a panic")
}
