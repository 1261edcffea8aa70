package faults

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/devstack"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/msg91"
	"github.com/cascade-oss/cascade/internal/providersim"
	"github.com/cascade-oss/cascade/internal/rbm"
	"github.com/cascade-oss/cascade/internal/stats"
	"github.com/cascade-oss/cascade/internal/status"
	"github.com/cascade-oss/cascade/internal/whatsapp"
)

// Scenario numbers name the phone numbers each scenario owns, so
// scenarios sharing one stack never touch each other's recipients.
const (
	sEscapes    = 1
	sBase64     = 2
	sThree      = 3
	sOrder      = 4
	sEarly      = 5
	sTableDown  = 6
	sThroughput = 7
	sTimeout    = 8
	sLate       = 9
	sToken      = 10
	sBatch      = 11
	sCrash      = 12
	sStream     = 13
	sLogs       = 15
)

// num is recipient i of scenario s, in E.164: +9199SS0000II.
func num(s, i int) string { return fmt.Sprintf("+9199%02d0000%02d", s, i) }

// Timing of the shared stack's fakes and senders.
const (
	hookDelay     = 20 * time.Millisecond
	lateDelay     = 6 * time.Second
	senderBackoff = time.Second
)

// script is every number the shared stack's fakes treat specially;
// all others are accepted and delivered.
func script() map[string]map[string]providersim.Outcome {
	wa := map[string]providersim.Outcome{}
	rcs := map[string]providersim.Outcome{}
	// Scenarios that post their own webhooks need sends the fake
	// accepts and then never reports on.
	for _, s := range []int{sEscapes, sBase64, sThree, sOrder, sTableDown} {
		for i := 1; i <= 3; i++ {
			wa[num(s, i)] = providersim.Silent
		}
	}
	for i := 1; i <= 5; i++ {
		wa[num(sThroughput, i)] = providersim.Throughput
	}
	wa[num(sTimeout, 1)] = providersim.Silent
	wa[num(sTimeout, 2)] = providersim.Silent
	rcs[num(sTimeout, 2)] = providersim.Silent
	wa[num(sLate, 1)] = providersim.Late
	wa[num(sLate, 2)] = providersim.Late

	wa[num(sLogs, 1)] = providersim.NotOnWhatsApp
	rcs[num(sLogs, 1)] = providersim.NotRCSCapable
	wa[num(sLogs, 2)] = providersim.Read
	wa[num(sLogs, 3)] = providersim.TemplatePaused
	return map[string]map[string]providersim.Outcome{"whatsapp": wa, "rcs": rcs}
}

// suite is the one stack every scenario shares.
type suite struct {
	st     *devstack.Stack
	client *devstack.Client
	logs   *syncBuffer
	// smsToken is the tenant's MSG91 webhook token, a secret.
	smsToken string

	mu        sync.Mutex
	campaigns []string // every campaign launched, for the log scan
	lanes     []*lane
}

var (
	shared     *suite
	sharedOnce sync.Once
	sharedErr  error
)

// TestMain stops the shared stack, and every execution it left
// running, after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		shared.st.StopExecutions(ctx)
		for _, l := range shared.lanes {
			l.close(ctx)
		}
		cancel()
		shared.st.Stop()
		if code != 0 {
			dumpLogs(shared.logs)
		}
	}
	os.Exit(code)
}

// dumpLogs keeps the handlers' logs of a failed run in a file.
func dumpLogs(b *syncBuffer) {
	f, err := os.CreateTemp("", "cascade-faults-*.log")
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.WriteString(f, b.String())
	fmt.Fprintf(os.Stderr, "handler logs: %s\n", f.Name())
}

// stack returns the shared stack, starting it on first use.
func stack(t *testing.T) *suite {
	t.Helper()
	endpoint := awstest.Endpoint(t)
	sharedOnce.Do(func() {
		shared, sharedErr = start(endpoint)
	})
	if sharedErr != nil {
		t.Fatalf("start the shared stack: %v", sharedErr)
	}
	return shared
}

func start(endpoint string) (*suite, error) {
	ctx := context.Background()
	logs := &syncBuffer{}
	st, err := devstack.Start(ctx, devstack.Options{
		Endpoint: endpoint, Log: logs, Seed: 9, SenderBackoff: senderBackoff,
		Fakes: devstack.FakeOptions{
			Numbers: script(), Delay: hookDelay, LateDelay: lateDelay, Batch: 5,
		},
	})
	if err != nil {
		return nil, err
	}
	s := &suite{st: st, client: &devstack.Client{URL: st.URL, Token: st.Token}, logs: logs}
	if err := st.ConnectChannels(ctx, s.client); err != nil {
		st.Stop()
		return nil, err
	}
	sec, err := s.secret(ctx, "sms")
	if err != nil {
		st.Stop()
		return nil, err
	}
	s.smsToken = sec["webhookToken"]
	return s, nil
}

// secret reads a channel's credentials, as the handlers do.
func (s *suite) secret(ctx context.Context, ch string) (map[string]string, error) {
	cfg, err := s.st.Store.Channel(ctx, s.st.Tenant, ch)
	if err != nil {
		return nil, fmt.Errorf("channel %s: %w", ch, err)
	}
	v, err := secretStore(s.st).Get(ctx, cfg.SecretARN)
	if err != nil {
		return nil, fmt.Errorf("secret of %s: %w", ch, err)
	}
	return v, nil
}

// syncBuffer is a log writer many handlers share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the JSON log records whose msg is msg and whose
// fields hold every key and value of match.
func (b *syncBuffer) records(msg string, match map[string]string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.Contains(line, msg) {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range match {
			if fmt.Sprint(rec[k]) != v {
				ok = false
			}
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out
}

// Campaign content the scenarios combine.
func waStep(timeout int) map[string]any {
	return map[string]any{"channel": "whatsapp", "timeoutSeconds": timeout,
		"whatsapp": map[string]any{"template": "order_shipped", "language": "en",
			"category": "utility", "parameters": []string{"{{name}}", "{{order}}"}}}
}

func rcsStep(timeout int) map[string]any {
	return map[string]any{"channel": "rcs", "timeoutSeconds": timeout,
		"rcs": map[string]any{"text": "Hi {{name}}, order {{order}} has shipped.",
			"trafficType": "TRANSACTION"}}
}

func smsStep(timeout int) map[string]any {
	return map[string]any{"channel": "sms", "timeoutSeconds": timeout,
		"sms": map[string]any{"provider": "msg91", "templateId": "65e0000000000000000000a1",
			"dltTemplateId": "1107160000000000001", "header": "CSCADE",
			"dltText":           "Dear {#var#}, your order {#var#} has shipped. -CSCADE",
			"principalEntityId": "1101160000000000001", "category": "service-implicit",
			"variables": []string{"{{name}}", "{{order}}"}}}
}

// audience is an inline audience of raw phone inputs.
func audience(phones ...string) []map[string]any {
	out := make([]map[string]any, len(phones))
	for i, p := range phones {
		out[i] = map[string]any{"phone": p,
			"vars": map[string]string{"name": fmt.Sprintf("Name%d", i+1), "order": fmt.Sprintf("ORD-%d", i+1)}}
	}
	return out
}

// create stores a campaign through the API and, with launch, launches
// it. It returns the campaign's id.
func (s *suite) create(t *testing.T, name string, launch bool, rows []map[string]any, steps ...map[string]any) string {
	t.Helper()
	body := map[string]any{"name": name, "region": "IN", "mode": "fallback",
		"channels": steps, "audience": map[string]any{"recipients": rows}, "launch": launch}
	var created struct {
		ID string `json:"id"`
	}
	if err := s.client.Do(context.Background(), "POST", "/v1/campaigns", body, 201, &created); err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	s.mu.Lock()
	s.campaigns = append(s.campaigns, created.ID)
	s.mu.Unlock()
	return created.ID
}

// wait waits until every journey of a launched campaign has ended.
func (s *suite) wait(t *testing.T, id string, limit time.Duration) stats.Stats {
	t.Helper()
	got, err := s.st.Wait(context.Background(), s.client, id, nil, limit)
	if err != nil {
		t.Fatalf("wait for campaign: %v", err)
	}
	return got
}

// waitAttempt polls an attempt until ok accepts it.
func waitAttempt(t *testing.T, store *dynamo.Store, id, to string, step int,
	limit time.Duration, ok func(dynamo.Attempt) bool) dynamo.Attempt {
	t.Helper()
	k := dynamo.AttemptKeyOf{Campaign: id, Recipient: to, Step: step}
	deadline := time.Now().Add(limit)
	for {
		a, err := store.Attempt(context.Background(), k)
		if err == nil && ok(a) {
			return a
		}
		if err != nil && !errors.Is(err, dynamo.ErrNotFound) {
			t.Fatalf("read attempt: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("attempt %s step %d not as wanted after %s: %+v", to, step, limit, a)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func submitted(a dynamo.Attempt) bool { return a.ProviderID != "" }

// fakes are the provider fakes whose logs the invariants read.
type fakes struct {
	wa  *providersim.WhatsApp
	rbm *providersim.RBM
	sms *providersim.MSG91
	// extra are webhooks a scenario posted itself and saw answered 200.
	extra func() []hook
}

// hook is one webhook POST a provider's side saw answered 200.
type hook struct {
	channel, contentType string
	body                 []byte
}

func (s *suite) fakes() fakes {
	f := s.st.Fakes
	return fakes{wa: f.WhatsApp, rbm: f.RBM, sms: f.MSG91, extra: s.posted}
}

var (
	postedMu sync.Mutex
	postedBy []hook
)

// posted returns the webhooks the scenarios posted and saw stored.
func (s *suite) posted() []hook {
	postedMu.Lock()
	defer postedMu.Unlock()
	return append([]hook(nil), postedBy...)
}

// want is what a campaign must look like when its journeys ended.
type want struct {
	order    []string
	numbers  []string // the valid recipients, in E.164
	rejected int      // audience rows refused
}

// checkInvariants checks the invariants on one campaign:
// devstack's Check (counters equal the recount, one outcome each, the
// funnel adds up), that the valid recipients are exactly the expected
// ones, that no fake accepted two sends for one attempt, that every
// accepted webhook was applied or kept pending, and that every refused
// row is reported.
func checkInvariants(t *testing.T, store *dynamo.Store, f fakes, id string, w want) {
	t.Helper()
	ctx := context.Background()
	if err := devstack.CheckStore(ctx, store, id, w.order); err != nil {
		t.Errorf("invariants: %v", err)
	}

	got := map[string]bool{}
	err := store.Recipients(ctx, id, func(r dynamo.Recipient) error {
		got[r.Phone] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	numbers := map[string]bool{}
	for _, n := range w.numbers {
		numbers[n] = true
		if !got[n] {
			t.Errorf("recipient %s missing", n)
		}
	}
	if len(got) != len(w.numbers) {
		t.Errorf("%d recipients, want %d", len(got), len(w.numbers))
	}

	rejected := 0
	err = store.RejectedRows(ctx, id, func(r dynamo.RejectedRow) error {
		rejected++
		if r.Reason == "" {
			t.Errorf("rejected row %d has no reason", r.Row)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rejected != w.rejected {
		t.Errorf("%d rejected rows reported, want %d", rejected, w.rejected)
	}

	var attempts []dynamo.Attempt
	err = store.Attempts(ctx, id, func(a dynamo.Attempt) error {
		attempts = append(attempts, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range checkSends(attempts, f) {
		t.Error(e)
	}
	for _, e := range checkHooks(ctx, store, numbers, f) {
		t.Error(e)
	}
}

// checkSends proves from the fakes' request logs that no attempt was
// accepted twice by its provider (an RBM repeat of a message id, which
// RBM ignores, is not a send), and that every attempt the provider
// accepted was sent exactly once.
func checkSends(attempts []dynamo.Attempt, f fakes) []error {
	accepted := map[string]int{} // by channel and attempt id (SMS: number)
	for _, r := range f.wa.Requests() {
		if r.Method == http.MethodPost && r.Status == http.StatusOK {
			accepted["whatsapp/"+r.ID]++
		}
	}
	for _, r := range f.rbm.Requests() {
		if r.Method == http.MethodPost && r.Status == http.StatusOK && !r.Repeat {
			accepted["rcs/"+r.ID]++
		}
	}
	for _, r := range f.sms.Requests() {
		if r.Method == http.MethodPost && r.Status == http.StatusOK {
			accepted["sms/"+r.To]++
		}
	}
	var errs []error
	smsAttempts := map[string]int{}
	for _, a := range attempts {
		k := a.Channel + "/" + a.ID
		if a.Channel == "sms" {
			k = "sms/" + a.Recipient
			smsAttempts[a.Recipient]++
		}
		n := accepted[k]
		switch {
		case n > 1 && a.Channel != "sms":
			errs = append(errs, fmt.Errorf("%s attempt %s step %d: provider accepted %d sends", a.Channel, a.Recipient, a.Step, n))
		case a.Times[string(status.Submitted)] != "" && n == 0:
			errs = append(errs, fmt.Errorf("%s attempt %s step %d is submitted but no send was accepted", a.Channel, a.Recipient, a.Step))
		}
	}
	for to, n := range smsAttempts {
		if accepted["sms/"+to] > n {
			errs = append(errs, fmt.Errorf("sms %s: %d sends accepted for %d attempts", to, accepted["sms/"+to], n))
		}
	}
	return errs
}

// checkHooks proves that every status a fake (or a scenario) posted
// and saw answered 200, for the campaign's numbers, was applied to its
// attempt or is kept as pending.
func checkHooks(ctx context.Context, store *dynamo.Store, numbers map[string]bool, f fakes) []error {
	var all []hook
	for _, p := range f.wa.Posts() {
		if p.Status == http.StatusOK {
			all = append(all, hook{"whatsapp", p.Header.Get("Content-Type"), p.Body})
		}
	}
	for _, p := range f.rbm.Posts() {
		if p.Status == http.StatusOK {
			all = append(all, hook{"rcs", p.Header.Get("Content-Type"), p.Body})
		}
	}
	for _, p := range f.sms.Posts() {
		if p.Status == http.StatusOK {
			all = append(all, hook{"sms", p.Header.Get("Content-Type"), p.Body})
		}
	}
	if f.extra != nil {
		all = append(all, f.extra()...)
	}
	var errs []error
	for _, h := range all {
		evs, err := parseHook(h)
		if err != nil {
			continue // parked, or not a status report
		}
		for _, ev := range evs {
			if !numbers["+"+strings.TrimPrefix(ev.Recipient, "+")] {
				continue
			}
			if err := kept(ctx, store, h.channel, ev); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

func parseHook(h hook) ([]status.Event, error) {
	switch h.channel {
	case "whatsapp":
		b, err := whatsapp.ParseWebhook(h.body)
		return b.Events, err
	case "rcs":
		w, err := rbm.ParseWebhook(h.body, "")
		return w.Events, err
	}
	return msg91.ParseReport(h.contentType, h.body)
}

// kept reports an error unless ev was applied to its attempt (or was
// a no-op the status rule allows) or waits as pending.
func kept(ctx context.Context, store *dynamo.Store, ch string, ev status.Event) error {
	id := ev.AttemptID
	if id == "" {
		id = ev.ProviderID
	}
	key := dynamo.MessageKey(ch, id)
	a, err := store.FindByMessage(ctx, key)
	if errors.Is(err, dynamo.ErrNotFound) {
		evs, _, err := store.Pending(ctx, key)
		if err != nil {
			return err
		}
		for _, p := range evs {
			if p.Status == ev.Status {
				return nil
			}
		}
		return fmt.Errorf("%s %s for %s was answered 200 but neither applied nor pending", ch, ev.Status, key)
	}
	if err != nil {
		return err
	}
	switch {
	case a.Status == status.Failed:
		return nil // failed is terminal: later statuses are no-ops
	case ev.Status == status.Failed && a.Status.Success():
		return nil // a failure after delivery is a no-op
	case ev.Status != status.Failed && a.Times[string(ev.Status)] != "":
		return nil
	}
	return fmt.Errorf("%s %s for attempt %s step %d not applied: attempt is %s",
		ch, ev.Status, a.Recipient, a.Step, a.Status)
}

// waStatus is one status of a WhatsApp webhook the tests write.
type waStatus struct {
	wamid, status, attempt, to string
	code                       int // an error code, for failed
}

// waBody writes a Cloud API status webhook the way Meta escapes its
// JSON: every slash as \/, every non-ASCII character as \uXXXX (a
// surrogate pair above U+FFFF). note, if not empty, rides along in a
// conversation field the parser skips.
func waBody(note string, sts ...waStatus) []byte {
	items := make([]map[string]any, len(sts))
	for i, s := range sts {
		it := map[string]any{"id": s.wamid, "status": s.status,
			"timestamp":    fmt.Sprint(time.Now().Unix()),
			"recipient_id": strings.TrimPrefix(s.to, "+"), "biz_opaque_callback_data": s.attempt}
		if note != "" {
			it["conversation"] = map[string]any{"id": note, "origin": map[string]string{"type": "utility"}}
		}
		if s.code != 0 {
			it["errors"] = []map[string]any{{"code": s.code, "title": "failed"}}
		}
		items[i] = it
	}
	body, _ := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "100000000000001", "changes": []any{map[string]any{
			"field": "messages",
			"value": map[string]any{"messaging_product": "whatsapp",
				"metadata": map[string]string{"display_phone_number": "919900000000",
					"phone_number_id": devstack.FakePhoneNumberID},
				"statuses": items},
		}}}},
	})
	return metaEscape(body)
}

// metaEscape rewrites encoded JSON with \/ and \uXXXX escapes. JSON
// outside strings is ASCII without slashes, so bytes can be mapped.
func metaEscape(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r == '/':
			out.WriteString(`\/`)
		case r < 0x80:
			out.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}

// metaSign is the X-Hub-Signature-256 value of body.
func metaSign(body []byte) string {
	m := hmac.New(sha256.New, []byte(devstack.FakeAppSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// post makes one webhook POST with the given headers, keeping header
// names exactly as written, and returns the answer's status. A 200
// answer is remembered for the webhook invariant.
func post(t *testing.T, url, channel string, body []byte, headers map[string]string) int {
	t.Helper()
	code, err := postRaw(url, channel, body, headers)
	if err != nil {
		t.Fatalf("post webhook: %v", err)
	}
	return code
}

// hookURL is the channel's webhook URL as the API shows it.
func (s *suite) hookURL(ch string) string {
	u := map[string]string{"whatsapp": s.st.Config.WebhookWhatsApp,
		"rcs": s.st.Config.WebhookRCS, "sms": s.st.Config.WebhookSMS}[ch]
	return u + "?tenant=" + s.st.Tenant
}
