package facts_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/imgcheck/imgcheck/rules/facts"
)

// TestEachBoundsAndOrder runs more calls than facts.Concurrency, each holding
// its slot a moment: never more than facts.Concurrency run at once, more than
// one does, and every result lands in its own slot.
func TestEachBoundsAndOrder(t *testing.T) {
	const n = 5 * facts.Concurrency
	var running, peak atomic.Int64
	out := make([]int, n)
	facts.Each(n, func(i int) {
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
	if p := peak.Load(); p > facts.Concurrency || p < 2 {
		t.Errorf("peak concurrency %d, want 2 to %d", p, facts.Concurrency)
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
	facts.Each(20, func(i int) {
		if i == 3 {
			panic("boom")
		}
		mu.Lock()
		done++
		mu.Unlock()
	})
	t.Error("Each returned after a panic")
}

// TestReadInOrder reads more files than facts.Concurrency, a missing one among
// them: fn sees each in the order given, nil for the missing one; an
// error of fn stops the reading there.
func TestReadInOrder(t *testing.T) {
	tree := fstest.MapFS{}
	var names []string
	for i := range 2*facts.Concurrency + 3 {
		name := fmt.Sprintf("etc/f%02d", i)
		names = append(names, name)
		if i != 5 {
			tree[name] = &fstest.MapFile{Data: []byte(name)}
		}
	}
	g := testGuest(t, tree)
	var seen []string
	err := facts.ReadInOrder(g, names, facts.CapConfig, func(i int, b []byte) error {
		if want := names[i]; i == 5 && b != nil || i != 5 && string(b) != want {
			t.Errorf("file %d: %q, want %q", i, b, want)
		}
		seen = append(seen, names[i])
		return nil
	})
	if err != nil || !slices.Equal(seen, names) {
		t.Errorf("saw %v (%v), want %v", seen, err, names)
	}
	stop := errors.New("stop")
	n := 0
	err = facts.ReadInOrder(g, names, facts.CapConfig, func(i int, b []byte) error {
		n++
		if i == facts.Concurrency+1 {
			return stop
		}
		return nil
	})
	if err != stop || n != facts.Concurrency+2 {
		t.Errorf("stopped after %d calls with %v, want %d with %v", n, err, facts.Concurrency+2, stop)
	}
}
