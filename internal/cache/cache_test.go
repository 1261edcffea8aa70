package cache

import (
	"errors"
	"testing"
	"time"
)

func TestGet(t *testing.T) {
	c := New[string, int](50 * time.Millisecond)
	loads := 0
	load := func() (int, error) { loads++; return loads, nil }
	if v, _ := c.Get("a", load); v != 1 {
		t.Fatalf("first Get = %d, want 1", v)
	}
	if v, _ := c.Get("a", load); v != 1 || loads != 1 {
		t.Errorf("second Get = %d after %d loads, want the cached 1", v, loads)
	}
	if _, err := c.Get("b", func() (int, error) { return 0, errors.New("down") }); err == nil {
		t.Error("a failed load returned no error")
	}
	if v, _ := c.Get("b", load); v != 2 {
		t.Errorf("Get after a failed load = %d, want a fresh load", v)
	}
	time.Sleep(60 * time.Millisecond)
	if v, _ := c.Get("a", load); v != 3 {
		t.Errorf("Get after expiry = %d, want a fresh load", v)
	}
}
