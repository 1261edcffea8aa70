package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cascade-oss/cascade/cmd/bench/internal/meter"
	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
	"github.com/cascade-oss/cascade/internal/status"
	"github.com/cascade-oss/cascade/internal/webhook"
)

// gateProxy stands in front of the stack's gateway: it times every
// API and webhook invocation for the meter and keeps each webhook as
// it arrived, for the fallback latency.
type gateProxy struct {
	target string
	meter  *meter.Meter
	client *http.Client

	mu    sync.Mutex
	hooks []arrival
}

// arrival is one webhook POST as it reached us.
type arrival struct {
	channel string
	at      time.Time
	req     webhook.Request
}

func newGateProxy(target string, m *meter.Meter) *gateProxy {
	return &gateProxy{target: target, meter: m, client: &http.Client{Transport: &http.Transport{
		MaxIdleConns: 64, MaxIdleConnsPerHost: 64}}}
}

func (g *gateProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "proxy: read body", http.StatusBadGateway)
		return
	}
	fn := "api"
	if ch, ok := strings.CutPrefix(r.URL.Path, "/hooks/"); ok {
		fn = "webhook-" + ch
		if r.Method == http.MethodPost {
			g.keep(ch, at, r, body)
		}
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, g.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "proxy: build request", http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	res, err := g.client.Do(out)
	if err != nil {
		http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	g.meter.Invoked(fn, time.Since(at))
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(answer)
}

func (g *gateProxy) keep(ch string, at time.Time, r *http.Request, body []byte) {
	headers := map[string]string{}
	for k := range r.Header {
		headers[strings.ToLower(k)] = r.Header.Get(k)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hooks = append(g.hooks, arrival{channel: ch, at: at,
		req: webhook.Request{Method: r.Method, Query: r.URL.Query(), Headers: headers, Body: body}})
}

// reset forgets the webhooks seen so far.
func (g *gateProxy) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hooks = nil
}

// sendClock is the senders' HTTP transport: it notes when each call
// to a provider fake leaves, and for which number.
type sendClock struct {
	base http.RoundTripper

	mu    sync.Mutex
	hosts map[string]string // fake's host → channel
	sends map[string][]time.Time
}

func newSendClock(base http.RoundTripper) *sendClock {
	return &sendClock{base: base, sends: map[string][]time.Time{}}
}

// watch names the fakes by URL and channel.
func (c *sendClock) watch(fakes map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hosts = map[string]string{}
	for u, ch := range fakes {
		if p, err := url.Parse(u); err == nil {
			c.hosts[p.Host] = ch
		}
	}
}

func (c *sendClock) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sends = map[string][]time.Time{}
}

// number finds an Indian mobile number in a send's path or body, with
// or without its plus, escaped or not.
var number = regexp.MustCompile(`(?:^|[^0-9])(?:\+|%2B)?(91[0-9]{10})(?:[^0-9]|$)`)

func (c *sendClock) RoundTrip(r *http.Request) (*http.Response, error) {
	at := time.Now()
	c.mu.Lock()
	ch := c.hosts[r.URL.Host]
	c.mu.Unlock()
	if ch != "" && r.Method == http.MethodPost {
		var body []byte
		if r.GetBody != nil {
			if rc, err := r.GetBody(); err == nil {
				body, _ = io.ReadAll(rc)
				rc.Close()
			}
		}
		if m := number.FindSubmatch(append([]byte(r.URL.EscapedPath()+" "), body...)); m != nil {
			c.mu.Lock()
			k := ch + "|" + string(m[1])
			c.sends[k] = append(c.sends[k], at)
			c.mu.Unlock()
		}
	}
	return c.base.RoundTrip(r)
}

// next is each channel's successor in the demo campaign's order.
var next = map[string]string{"whatsapp": "rcs", "rcs": "sms"}

// parsers read each channel's webhook bodies, as the webhooks do.
var parsers = map[string]webhook.Provider{
	"whatsapp": webhook.WhatsApp{}, "rcs": webhook.RBM{}, "sms": webhook.MSG91{},
}

// fallbackLatency matches each failed-status webhook with the next
// channel's first send to the same number after it.
func fallbackLatency(hooks []arrival, c *sendClock) results.Latency {
	failedAt := map[string]time.Time{} // channel|number → first failure
	for _, h := range hooks {
		p := parsers[h.channel]
		if p == nil {
			continue
		}
		evs, err := p.Parse(h.req)
		if err != nil {
			continue
		}
		for _, ev := range evs {
			if ev.Status != status.Failed {
				continue
			}
			k := h.channel + "|" + digits(ev.Recipient)
			if t, ok := failedAt[k]; !ok || h.at.Before(t) {
				failedAt[k] = h.at
			}
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var lat []float64
	unmatched := 0
	for k, at := range failedAt {
		ch, num, _ := strings.Cut(k, "|")
		d, ok := firstAfter(c.sends[next[ch]+"|"+num], at)
		if !ok {
			unmatched++
			continue
		}
		lat = append(lat, float64(d)/float64(time.Millisecond))
	}
	l := results.Latency{Samples: len(lat), Unmatched: unmatched}
	if len(lat) > 0 {
		sort.Float64s(lat)
		l.P50MS, l.P99MS, l.MaxMS = quantile(lat, 0.50), quantile(lat, 0.99), lat[len(lat)-1]
	}
	return l
}

func firstAfter(ts []time.Time, at time.Time) (time.Duration, bool) {
	best, ok := time.Duration(0), false
	for _, t := range ts {
		if d := t.Sub(at); d >= 0 && (!ok || d < best) {
			best, ok = d, true
		}
	}
	return best, ok
}

// digits keeps a number's digits, with India's 91 in front.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 10 {
		d = "91" + d
	}
	return d
}

// quantile reads the q-th quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
