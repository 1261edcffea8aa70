// Package cache keeps values a warm Lambda reads again and again (a
// campaign's content, a tenant's channel settings) for a short time, so
// each message does not cost the same table reads.
package cache

import (
	"sync"
	"time"
)

// TTL is a small map whose entries expire after a fixed time.
type TTL[K comparable, V any] struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[K]entry[V]
}

type entry[V any] struct {
	v    V
	till time.Time
}

// New returns a cache whose entries live for ttl.
func New[K comparable, V any](ttl time.Duration) *TTL[K, V] {
	return &TTL[K, V]{ttl: ttl, m: map[K]entry[V]{}}
}

// Get returns the cached value for k, or loads, stores and returns it.
// A load error is returned and nothing is cached.
func (c *TTL[K, V]) Get(k K, load func() (V, error)) (V, error) {
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && time.Now().Before(e.till) {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	c.m[k] = entry[V]{v: v, till: time.Now().Add(c.ttl)}
	c.mu.Unlock()
	return v, nil
}
