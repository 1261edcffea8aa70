// Package providersim holds fakes of the three providers Cascade
// talks to: WhatsApp Cloud API, Google RBM and MSG91. Each is an
// http.Handler speaking the provider's paths, headers, auth checks,
// validation and error bodies (shared/reference/provider-contracts.md
// sections 1.7, 2.7 and 3.4), decides each number's outcome from a
// reproducible script, and posts the statuses back as correctly signed
// webhooks. Tests and the local stack point the real adapters at them.
//
// A fake is safe for concurrent use. Close stops its pending webhooks;
// Wait blocks until every scheduled webhook was posted.
package providersim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Outcome is what a fake does with a send to one number.
type Outcome string

// The named outcomes. Each fake plays the ones that make sense for its
// provider; its constructor refuses the others.
const (
	// Delivered: accepted, then delivered (all providers).
	Delivered Outcome = "delivered"
	// Read: accepted, delivered, then read (WhatsApp, RCS).
	Read Outcome = "read"
	// Silent: accepted, and no webhook ever comes (all providers).
	Silent Outcome = "silent"
	// Late: accepted, delivered after Config.LateDelay (all providers).
	Late Outcome = "late"
	// Throughput: WhatsApp's 130429 refusal for the first sends to the
	// number, then accepted and delivered.
	Throughput Outcome = "throughput"
	// Expired: RBM revokes the message when its ttl runs out
	// (TTL_EXPIRATION_REVOKED).
	Expired Outcome = "expired"
	// RevokeFailed: RBM could not revoke on expiry
	// (TTL_EXPIRATION_REVOKE_FAILED), and DELIVERED follows.
	RevokeFailed Outcome = "revoke-failed"
	// Unsubscribe: delivered, then the user sends UNSUBSCRIBE (RCS).
	Unsubscribe Outcome = "unsubscribe"
)

// Outcome kinds with a provider code after the colon.
const (
	syncPrefix  = "error:"
	asyncPrefix = "fail:"
)

// SyncError is the outcome of a send refused at once with code: a
// WhatsApp error code, an RBM HTTP status, or an MSG91 error code.
func SyncError(code string) Outcome { return Outcome(syncPrefix + code) }

// AsyncFailure is the outcome of a send accepted, then failed by
// webhook with code: a WhatsApp error code or an MSG91 DLR status.
func AsyncFailure(code string) Outcome { return Outcome(asyncPrefix + code) }

// Outcomes named for what they are.
var (
	NotOnWhatsApp  = AsyncFailure("131026")
	MarketingLimit = AsyncFailure("131049")
	TemplatePaused = SyncError("132015")
	NotRCSCapable  = SyncError("404")
	NDNC           = AsyncFailure("9")
	SMSFailed      = AsyncFailure("2")
	Rejected       = AsyncFailure("16")
)

// split returns an outcome's kind and code: ("error", "132015") for a
// synchronous error, ("fail", "9") for a failure webhook, (name, "")
// for the others.
func (o Outcome) split() (kind, code string) {
	if c, ok := strings.CutPrefix(string(o), syncPrefix); ok {
		return "error", c
	}
	if c, ok := strings.CutPrefix(string(o), asyncPrefix); ok {
		return "fail", c
	}
	return string(o), ""
}

// Share is one outcome's weight in a mix.
type Share struct {
	Outcome Outcome
	Weight  int
}

// Script decides each number's outcome: the one Numbers names, else
// one drawn from Mix by hashing Seed and the number, so the same seed
// gives the same outcomes on every run. An empty Mix delivers.
type Script struct {
	// Numbers maps E.164 numbers (with the plus) to outcomes.
	Numbers map[string]Outcome
	Mix     []Share
	Seed    uint64
}

// For returns the outcome for number, in E.164.
func (s Script) For(number string) Outcome {
	if o, ok := s.Numbers[number]; ok {
		return o
	}
	total := 0
	for _, sh := range s.Mix {
		total += max(sh.Weight, 0)
	}
	if total == 0 {
		return Delivered
	}
	h := fnv.New64a()
	_ = binary.Write(h, binary.BigEndian, s.Seed)
	h.Write([]byte(number))
	pick := int(h.Sum64() % uint64(total))
	for _, sh := range s.Mix {
		if pick < max(sh.Weight, 0) {
			return sh.Outcome
		}
		pick -= max(sh.Weight, 0)
	}
	return Delivered
}

// check returns an error naming the first outcome ok refuses.
func (s Script) check(provider string, ok func(Outcome) bool) error {
	for n, o := range s.Numbers {
		if !ok(o) {
			return fmt.Errorf("%s fake cannot play %q for %s", provider, o, n)
		}
	}
	for _, sh := range s.Mix {
		if !ok(sh.Outcome) {
			return fmt.Errorf("%s fake cannot play %q in the mix", provider, sh.Outcome)
		}
	}
	return nil
}

// Config holds what every fake shares: the script, where webhooks go,
// and the knobs that shape them.
type Config struct {
	Script Script
	// WebhookURL receives the status webhooks; SetWebhookURL changes
	// it later. With none set, statuses are dropped.
	WebhookURL string
	// Delay comes before a message's first webhook and between its
	// later ones.
	Delay time.Duration
	// LateDelay is when a Late outcome's delivery comes; 0 means 1 s.
	LateDelay time.Duration
	// Batch is the most statuses in one POST (WhatsApp and MSG91; RBM
	// posts one event per push); 0 means 1. BatchWindow is how long a
	// POST waits for more statuses to fill it.
	Batch       int
	BatchWindow time.Duration
	// Concurrency is how many webhook POSTs may be in flight at once;
	// 0 means 1, in order.
	Concurrency int
	// Duplicate posts every status twice.
	Duplicate bool
	// Reorder posts read before delivered.
	Reorder bool
	// Early posts a message's first status before the send's HTTP
	// answer is written, so it races the sender recording its attempt.
	Early bool
	// Tries bounds the attempts at one POST while the receiver answers
	// non-200; 0 means 4. RetryWait is the first pause between them,
	// doubling after each; 0 means 20 ms.
	Tries     int
	RetryWait time.Duration
	// Client posts the webhooks; nil means one with a 10 s timeout.
	Client *http.Client
	// Log reports webhooks given up on; nil means no logging.
	Log *slog.Logger
}

// withDefaults fills the zero knobs.
func (c Config) withDefaults() Config {
	if c.LateDelay == 0 {
		c.LateDelay = time.Second
	}
	c.Batch = max(c.Batch, 1)
	if c.Tries <= 0 {
		c.Tries = 4
	}
	if c.RetryWait <= 0 {
		c.RetryWait = 20 * time.Millisecond
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Request is one call a fake received.
type Request struct {
	Method string
	Path   string
	// To is the recipient in E.164, as the fake read it.
	To string
	// ID is our id in the call: WhatsApp's biz_opaque_callback_data,
	// RBM's messageId.
	ID string
	// ProviderID is the id the fake gave the message: a wamid or an
	// MSG91 request id.
	ProviderID string
	Template   string
	Outcome    Outcome
	// Status is the HTTP status the fake answered.
	Status int
	// Repeat is set when RBM saw this messageId before and ignored it.
	Repeat bool
}

// core is the state every fake shares: the records, the webhook URL
// and the id sequence.
type core struct {
	cfg Config

	mu       sync.Mutex
	url      string
	requests []Request
	seq      uint64

	// hooks is the fake's poster, set by its constructor.
	hooks interface {
		Wait()
		Close()
		Posts() []Post
	}
}

// Wait blocks until every scheduled webhook was posted or given up on,
// or the fake was closed. A Late outcome makes it wait for LateDelay.
func (c *core) Wait() { c.hooks.Wait() }

// Close drops the webhooks not yet posted and stops the goroutines
// that post them. It does not stop an HTTP server serving the fake.
func (c *core) Close() { c.hooks.Close() }

// Posts returns the webhook POSTs made so far, oldest first.
func (c *core) Posts() []Post { return c.hooks.Posts() }

func newCore(cfg Config) core {
	cfg = cfg.withDefaults()
	return core{cfg: cfg, url: cfg.WebhookURL}
}

// SetWebhookURL sets where status webhooks go from now on.
func (c *core) SetWebhookURL(u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.url = u
}

// webhookURL returns where webhooks go now.
func (c *core) webhookURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url
}

// Requests returns a copy of every call received, oldest first.
func (c *core) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.requests...)
}

// Sends counts the send calls (POSTs) naming to, in E.164, whatever
// they were answered.
func (c *core) Sends(to string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.requests {
		if r.Method == http.MethodPost && r.To == to {
			n++
		}
	}
	return n
}

// record keeps one call; the caller holds c.mu.
func (c *core) record(r Request) { c.requests = append(c.requests, r) }

// nextID returns size reproducible pseudo-random bytes for an id; the
// caller holds c.mu.
func (c *core) nextID(kind string, size int) []byte {
	c.seq++
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], c.cfg.Script.Seed)
	binary.BigEndian.PutUint64(b[8:], c.seq)
	sum := sha256.Sum256(append([]byte(kind), b[:]...))
	return sum[:min(size, len(sum))]
}

// digits keeps the digits of s.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
