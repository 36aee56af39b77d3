package inodefs

import "testing"

// TestLRUEvictsByCost checks that the cache evicts the least recently
// used values until their cost fits, that Get refreshes a value, that
// re-adding a key replaces its cost, and that a value costlier than the
// whole cache is not kept.
func TestLRUEvictsByCost(t *testing.T) {
	c := NewLRU[string, int](10)
	c.Add("a", 1, 4)
	c.Add("b", 2, 4)
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a evicted early")
	}
	c.Add("c", 3, 4) // 12 > 10: evicts b
	if _, ok := c.Get("b"); ok {
		t.Error("b kept past the bound")
	}
	for k, want := range map[string]int{"a": 1, "c": 3} {
		if v, ok := c.Get(k); !ok || v != want {
			t.Errorf("Get(%q) = %d, %v; want %d", k, v, ok, want)
		}
	}
	c.Add("a", 10, 8) // a's cost grows to 8: evicts c, the older
	if _, ok := c.Get("c"); ok {
		t.Error("c kept after a grew")
	}
	if v, ok := c.Get("a"); !ok || v != 10 {
		t.Errorf("Get(a) = %d, %v; want 10", v, ok)
	}
	c.Add("huge", 0, 11)
	if _, ok := c.Get("huge"); ok {
		t.Error("a value costlier than the cache was kept")
	}
	if _, ok := c.Get("a"); !ok {
		t.Error("a costly Add evicted a")
	}
}
