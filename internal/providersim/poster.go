package providersim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Post is one webhook POST a fake made, as the receiver last answered
// it.
type Post struct {
	Body   []byte
	Header http.Header
	// Status is the receiver's last answer; 0 when every try failed
	// before an answer.
	Status int
	Tries  int
}

// webhook is a ready POST: body and headers, signed.
type webhook struct {
	body   []byte
	header http.Header
}

// poster schedules a fake's statuses and posts them, batched, to the
// webhook URL, retrying a bounded number of times on non-200. Items of
// type T are one status each; build turns a batch into a signed POST,
// and keep, if set, drops items at posting time (an RBM revoke).
type poster[T any] struct {
	cfg   Config
	url   func() string
	build func([]T) (webhook, error)
	keep  func(T) bool
	batch int

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	wake   chan struct{}

	mu      sync.Mutex
	idle    *sync.Cond // signalled when pending drops to zero
	queue   []T
	pending int // items scheduled and not yet posted or dropped
	timers  map[uint64]*time.Timer
	timerID uint64
	closed  bool
	posts   []Post
}

func newPoster[T any](cfg Config, batch int, url func() string,
	build func([]T) (webhook, error)) *poster[T] {
	ctx, cancel := context.WithCancel(context.Background())
	p := &poster[T]{
		cfg: cfg, url: url, build: build, batch: batch,
		ctx: ctx, cancel: cancel,
		done: make(chan struct{}), wake: make(chan struct{}, 1),
		timers: map[uint64]*time.Timer{},
	}
	p.idle = sync.NewCond(&p.mu)
	go p.run()
	return p
}

// after queues items to post once d has passed, in their order.
func (p *poster[T]) after(d time.Duration, items ...T) {
	if len(items) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.pending += len(items)
	if d <= 0 {
		p.enqueue(items)
		return
	}
	p.timerID++
	id := p.timerID
	// The map entry is written before the timer can fire, because
	// fire needs p.mu, which is held here.
	p.timers[id] = time.AfterFunc(d, func() { p.fire(id, items) })
}

// fire moves a timer's items to the queue unless Close stopped it.
func (p *poster[T]) fire(id uint64, items []T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.timers[id]; !ok {
		return
	}
	delete(p.timers, id)
	p.enqueue(items)
}

// enqueue appends items and wakes run; the caller holds p.mu.
func (p *poster[T]) enqueue(items []T) {
	p.queue = append(p.queue, items...)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// now posts items at once on the caller's goroutine: the Early knob,
// which must finish before the send's answer is written.
func (p *poster[T]) now(items ...T) {
	p.mu.Lock()
	if p.closed || len(items) == 0 {
		p.mu.Unlock()
		return
	}
	p.pending += len(items)
	p.mu.Unlock()
	p.deliver(items)
}

// run posts queued items until Close.
func (p *poster[T]) run() {
	defer close(p.done)
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		}
		if !p.sleep(p.cfg.BatchWindow) {
			return
		}
		p.drain()
	}
}

// take removes up to one batch from the queue.
// drain posts everything queued, Config.Concurrency POSTs at a time
// (providers deliver webhooks concurrently, and in no set order).
func (p *poster[T]) drain() {
	sem := make(chan struct{}, max(p.cfg.Concurrency, 1))
	var wg sync.WaitGroup
	for {
		items := p.take()
		if len(items) == 0 {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.deliver(items)
			<-sem
		}()
	}
	wg.Wait()
}

func (p *poster[T]) take() []T {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(p.batch, len(p.queue))
	items := append([]T(nil), p.queue[:n]...)
	p.queue = p.queue[n:]
	return items
}

// deliver posts one batch, after dropping what keep refuses, and
// counts the items done whatever happened.
func (p *poster[T]) deliver(items []T) {
	n := len(items)
	defer p.finish(n)
	if p.keep != nil {
		kept := items[:0:0]
		for _, it := range items {
			if p.keep(it) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	url := p.url()
	if len(items) == 0 || url == "" {
		return
	}
	w, err := p.build(items)
	if err != nil {
		p.cfg.Log.Error("build webhook", "err", err)
		return
	}
	p.post(url, w)
}

// finish marks n items done and wakes Wait at zero.
func (p *poster[T]) finish(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending -= n
	if p.pending <= 0 {
		p.idle.Broadcast()
	}
}

// post makes one POST with bounded retries and records it.
func (p *poster[T]) post(url string, w webhook) {
	rec := Post{Body: w.body, Header: w.header}
	wait := p.cfg.RetryWait
	for rec.Tries < p.cfg.Tries {
		rec.Tries++
		code, err := p.try(url, w)
		rec.Status = code
		if err == nil && code == http.StatusOK {
			break
		}
		if rec.Tries == p.cfg.Tries || !p.sleep(wait) {
			p.cfg.Log.Warn("webhook given up", "status", code, "tries", rec.Tries)
			break
		}
		wait *= 2
	}
	p.mu.Lock()
	p.posts = append(p.posts, rec)
	p.mu.Unlock()
}

// try makes one POST attempt.
func (p *poster[T]) try(url string, w webhook) (int, error) {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, url,
		bytes.NewReader(w.body))
	if err != nil {
		return 0, fmt.Errorf("build webhook post: %w", err)
	}
	req.Header = w.header.Clone()
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// sleep waits d, or returns false at once when the poster is closed.
func (p *poster[T]) sleep(d time.Duration) bool {
	if d <= 0 {
		return p.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Wait blocks until every scheduled status was posted (or given up
// on), or the poster is closed.
func (p *poster[T]) Wait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.pending > 0 && !p.closed {
		p.idle.Wait()
	}
}

// Close drops the statuses not yet posted, stops the timers, aborts a
// POST in flight and returns once the posting goroutine is gone.
func (p *poster[T]) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.done
		return
	}
	p.closed = true
	for id, t := range p.timers {
		t.Stop()
		delete(p.timers, id)
	}
	p.queue = nil
	p.idle.Broadcast()
	p.mu.Unlock()

	p.cancel()
	<-p.done
}

// Posts returns a copy of the webhook POSTs made so far.
func (p *poster[T]) Posts() []Post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Post(nil), p.posts...)
}
