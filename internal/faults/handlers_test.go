package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/callback"
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/function"
	"github.com/cascade-oss/cascade/internal/moto"
	"github.com/cascade-oss/cascade/internal/providersim"
	"github.com/cascade-oss/cascade/internal/status"
)

// relay copies a recorded answer to w.
func relay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// postRaw is post for code that may not stop the test, such as a
// fake provider's handler.
func postRaw(url, channel string, body []byte, headers map[string]string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range headers {
		req.Header[k] = []string{v} // as written: no canonical case
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode == http.StatusOK {
		rememberHook(channel, headers["Content-Type"], body)
	}
	return res.StatusCode, nil
}

// earlySeen is what the provider's side saw when its early webhook
// had been answered, before it answered the send.
type earlySeen struct {
	mu             sync.Mutex
	waCode         int
	waStatus       status.Status
	smsPending     []status.Event
	smsProviderSet bool
}

// earlyDelivery is fault 5: a "delivered" webhook that arrives 60 ms
// after the send request, before the provider's answer has been
// stored, ends delivered with one callback. WhatsApp's webhook names
// our attempt, so it applies at once; MSG91's names only its own id,
// so it is kept pending and applied when the sender stores the id.
func earlyDelivery(t *testing.T, s *suite) {
	ctx := context.Background()
	viaWA, viaSMS := num(sEarly, 1), num(sEarly, 2)
	seen := &earlySeen{}
	var l *lane
	waEarly := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t0 := time.Now()
			raw, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var send struct {
				To string `json:"to"`
				CB string `json:"biz_opaque_callback_data"`
			}
			var answer struct {
				Messages []struct {
					ID string `json:"id"`
				} `json:"messages"`
			}
			_ = json.Unmarshal(raw, &send)
			_ = json.Unmarshal(rec.Body.Bytes(), &answer)
			if rec.Code == http.StatusOK && send.To == viaWA && len(answer.Messages) == 1 {
				time.Sleep(time.Until(t0.Add(60 * time.Millisecond)))
				body := waBody("", waStatus{wamid: answer.Messages[0].ID, attempt: send.CB, to: viaWA, status: "delivered"})
				code, _ := postRaw(l.hookURL(), "whatsapp", body, jsonHeaders(metaSign(body)))
				a, _ := l.store.FindByMessage(ctx, dynamo.MessageKey("whatsapp", send.CB))
				seen.mu.Lock()
				seen.waCode, seen.waStatus = code, a.Status
				seen.mu.Unlock()
			}
			relay(w, rec)
		})
	}
	smsEarly := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The fake posts its report before it answers (Early), so
			// the report comes 60 ms after the request, before the
			// answer.
			time.Sleep(60 * time.Millisecond)
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var answer struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &answer)
			evs, _, _ := l.store.Pending(ctx, dynamo.MessageKey("sms", answer.Message))
			_, err := l.store.FindByMessage(ctx, dynamo.MessageKey("sms", answer.Message))
			seen.mu.Lock()
			seen.smsPending, seen.smsProviderSet = evs, err == nil
			seen.mu.Unlock()
			relay(w, rec)
		})
	}
	l = newLane(t, s, laneOptions{
		numbers: map[string]map[string]providersim.Outcome{"whatsapp": {
			viaWA: providersim.Silent, viaSMS: providersim.TemplatePaused}},
		smsEarly: true,
		wrap:     map[string]func(http.Handler) http.Handler{"whatsapp": waEarly, "sms": smsEarly},
	})
	c := l.campaign(t, "fault 5 early", true, []string{viaWA, viaSMS}, waStep(60), smsStep(60))
	got := l.waitOutcomes(t, c.ID, time.Minute)

	seen.mu.Lock()
	if seen.waCode != 200 || seen.waStatus != status.Delivered {
		t.Errorf("early WhatsApp webhook: %d, attempt %s; want 200 and delivered before the send was answered",
			seen.waCode, seen.waStatus)
	}
	if len(seen.smsPending) != 1 || seen.smsPending[0].Status != status.Delivered || seen.smsProviderSet {
		t.Errorf("early MSG91 report: pending %+v, id stored %v; want delivered kept pending before the id",
			seen.smsPending, seen.smsProviderSet)
	}
	seen.mu.Unlock()

	for n, ch := range map[string]string{viaWA: "whatsapp", viaSMS: "sms"} {
		if got[n].Outcome != dynamo.OutcomeDelivered || got[n].ReachedOn != ch {
			t.Errorf("%s ended %s on %q, want delivered on %s", n, got[n].Outcome, got[n].ReachedOn, ch)
		}
	}
	for _, k := range []dynamo.AttemptKeyOf{{Campaign: c.ID, Recipient: viaWA}, {Campaign: c.ID, Recipient: viaSMS, Step: 1}} {
		a, err := l.store.Attempt(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != status.Delivered || a.ProviderID == "" {
			t.Errorf("%s step %d = %s, provider id %q; want delivered with its id", k.Recipient, k.Step, a.Status, a.ProviderID)
		}
		if n := len(s.logs.records("task answered", map[string]string{"attemptId": a.ID})); n != 1 {
			t.Errorf("%s step %d answered %d times, want once", k.Recipient, k.Step, n)
		}
		if a.Channel == "sms" {
			if evs, _, _ := l.store.Pending(ctx, dynamo.MessageKey("sms", a.ProviderID)); len(evs) != 0 {
				t.Errorf("pending report not cleared: %+v", evs)
			}
		}
	}
	// Two tasks ran, the wait for delivery and the outcome message;
	// each succeeded exactly once.
	h := taskEvents(t, l.cl.SFN, executionARN(l.cfg.StateMachineARN, c.ID, laneRow(viaWA)))
	if h[sfntypes.HistoryEventTypeTaskSucceeded] != 2 || h[sfntypes.HistoryEventTypeTaskScheduled] != 2 {
		t.Errorf("execution history %v, want two tasks scheduled and each succeeded once", h)
	}
	checkInvariants(t, l.store, l.fk, c.ID, want{order: []string{"whatsapp", "sms"}, numbers: []string{viaWA, viaSMS}})
}

// recordingSFN is the Step Functions client as the status processor
// sees it: it records each token it is handed. moto cannot issue a
// token of our choosing, so for that one token it answers as Step
// Functions answers an open task, and ends the journey the way the
// state machine's Delivered state does; every other call goes to moto.
type recordingSFN struct {
	real  *sfn.Client
	token string
	done  func(cascade.Result)

	mu     sync.Mutex
	tokens []string
}

func (r *recordingSFN) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	r.mu.Lock()
	r.tokens = append(r.tokens, aws.ToString(in.TaskToken))
	r.mu.Unlock()
	if aws.ToString(in.TaskToken) != r.token {
		return r.real.SendTaskSuccess(ctx, in, o...)
	}
	var res cascade.Result
	if err := json.Unmarshal([]byte(aws.ToString(in.Output)), &res); err != nil {
		return nil, fmt.Errorf("task output: %w", err)
	}
	r.done(res)
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (r *recordingSFN) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, o ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	r.mu.Lock()
	r.tokens = append(r.tokens, aws.ToString(in.TaskToken))
	r.mu.Unlock()
	return r.real.SendTaskFailure(ctx, in, o...)
}

// urlLog is an HTTP transport that remembers every URL it calls.
type urlLog struct {
	mu   sync.Mutex
	urls []string
}

func (u *urlLog) RoundTrip(r *http.Request) (*http.Response, error) {
	u.mu.Lock()
	u.urls = append(u.urls, r.URL.String())
	u.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// longToken is fault 10: a task token of 2,048 characters of A, +, /
// and = goes from the queue through the sender, the table and its
// stream to the status processor's callback byte for byte, and is
// never part of a key or a URL.
func longToken(t *testing.T, s *suite) {
	ctx := context.Background()
	token := strings.Repeat("AAA+//==", 256)
	n := num(sToken, 1)
	urls := &urlLog{}
	l := newLane(t, s, laneOptions{hc: &http.Client{Transport: urls}, manual: map[string]bool{"stream": true}})
	c := l.campaign(t, "fault 10 token", false, []string{n}, waStep(60))

	// The processor's callback ends the journey as the execution would.
	rec := &recordingSFN{real: l.cl.SFN, token: token, done: func(res cascade.Result) {
		body, _ := json.Marshal(cascade.Outcome{Tenant: s.st.Tenant, Campaign: c.ID, Recipient: n,
			Outcome: cascade.Delivered, Result: &res, Steps: 1})
		_, _ = l.cl.SQS.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(l.queues["outcome"]), MessageBody: aws.String(string(body))})
	}}
	p := callback.New(rec, l.store, l.log("status-processor"))
	pumpCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.pumpStream(pumpCtx, p.Handle)
	}()
	defer func() { stop(); wg.Wait() }()

	// The task, as the state machine puts it on the channel's queue.
	task, _ := json.Marshal(cascade.Task{TaskToken: token, Tenant: s.st.Tenant, Campaign: c.ID,
		Recipient: n, Mode: campaign.Fallback, Channel: "whatsapp", Steps: 1})
	if _, err := l.cl.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(l.queues["whatsapp"]), MessageBody: aws.String(string(task))}); err != nil {
		t.Fatal(err)
	}
	got := l.waitOutcomes(t, c.ID, time.Minute)
	if got[n].Outcome != dynamo.OutcomeDelivered {
		t.Errorf("journey ended %q, want delivered", got[n].Outcome)
	}

	a, err := l.store.Attempt(ctx, dynamo.AttemptKeyOf{Campaign: c.ID, Recipient: n})
	if err != nil {
		t.Fatal(err)
	}
	if a.TaskToken != token {
		t.Errorf("stored token differs: %d characters, want %d", len(a.TaskToken), len(token))
	}
	rec.mu.Lock()
	sent := append([]string(nil), rec.tokens...)
	rec.mu.Unlock()
	if len(sent) == 0 || sent[0] != token {
		t.Errorf("the callback carried %d tokens, first of %d characters; want the token byte for byte", len(sent), len(firstOr(sent)))
	}

	// No key and no URL holds the token, or a tell-tale piece of it.
	piece := token[:64]
	for _, k := range tableKeys(t, l) {
		if strings.Contains(k, piece) {
			t.Errorf("a key holds the token: %.80s…", k)
		}
	}
	for _, k := range []string{a.ID, a.MessageKey, a.ProviderID} {
		if strings.Contains(k, piece) {
			t.Errorf("an id holds the token: %.80s…", k)
		}
	}
	urls.mu.Lock()
	called := append([]string(nil), urls.urls...)
	urls.mu.Unlock()
	for _, r := range l.fk.wa.Requests() {
		called = append(called, r.Path)
	}
	for _, u := range called {
		if strings.Contains(u, piece) || strings.Contains(u, url.QueryEscape(piece)) {
			t.Errorf("a URL holds the token: %.80s…", u)
		}
	}
	if len(called) == 0 {
		t.Error("the sender called no provider URL")
	}
	checkInvariants(t, l.store, l.fk, c.ID, want{order: []string{"whatsapp"}, numbers: []string{n}})
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// tableKeys returns the pk and sk of every item in a lane's table.
func tableKeys(t *testing.T, l *lane) []string {
	t.Helper()
	var out []string
	p := dynamodb.NewScanPaginator(l.cl.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(l.cfg.Table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			for _, k := range []string{"pk", "sk", "msgKey"} {
				if v, ok := it[k].(*dbtypes.AttributeValueMemberS); ok {
					out = append(out, v.Value)
				}
			}
		}
	}
	return out
}

// batchServerError is fault 11: an SQS batch of three sends whose
// second provider call answers 500. Only the second is a batch item
// failure, the handler returns a nil error, and when the whole batch
// comes back the first and third are not sent again.
func batchServerError(t *testing.T, s *suite) {
	ctx := context.Background()
	nums := []string{num(sBatch, 1), num(sBatch, 2), num(sBatch, 3)}
	var calls atomic.Int32
	var failing atomic.Bool
	failing.Store(true)
	fail500 := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && calls.Add(1) == 2 && failing.Load() {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	l := newLane(t, s, laneOptions{wrap: map[string]func(http.Handler) http.Handler{"whatsapp": fail500},
		manual: map[string]bool{"whatsapp": true}})
	c := l.campaign(t, "fault 11 batch", true, nums, waStep(60))

	msgs := l.receive(t, "whatsapp", 3, 30, 30*time.Second)
	h := l.sender("whatsapp", http.DefaultClient)
	resp, err := h.Handle(ctx, events.SQSEvent{Records: msgs})
	if err != nil {
		t.Fatalf("handler returned %v, want nil", err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != msgs[1].MessageId {
		t.Fatalf("batch item failures %+v, want only the second message %s", resp.BatchItemFailures, msgs[1].MessageId)
	}
	order := make([]string, 3)
	for i, m := range msgs {
		var task cascade.Task
		_ = json.Unmarshal([]byte(m.Body), &task)
		order[i] = task.Recipient
	}
	accepted := func(n string) int {
		k := 0
		for _, r := range l.fk.wa.Requests() {
			if r.To == n && r.Status == http.StatusOK {
				k++
			}
		}
		return k
	}
	for i, want := range []int{1, 0, 1} {
		if got := accepted(order[i]); got != want {
			t.Errorf("after the first batch message %d was accepted %d times, want %d", i+1, got, want)
		}
	}

	// The whole batch comes back, as when the event source could not
	// delete it: the first and third now, the second after its backoff.
	failing.Store(false)
	for _, m := range []events.SQSMessage{msgs[0], msgs[2]} {
		if _, err := l.cl.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(l.queues["whatsapp"]), ReceiptHandle: aws.String(m.ReceiptHandle)}); err != nil {
			t.Fatal(err)
		}
	}
	again := l.receive(t, "whatsapp", 3, 30, 30*time.Second)
	resp, err = h.Handle(ctx, events.SQSEvent{Records: again})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivered batch: %+v, %v; want every message taken", resp, err)
	}
	if err := l.settle(ctx, "whatsapp", again, resp); err != nil {
		t.Fatal(err)
	}
	for i, n := range order {
		if got := accepted(n); got != 1 {
			t.Errorf("message %d was accepted %d times in all, want once", i+1, got)
		}
	}
	got := l.waitOutcomes(t, c.ID, time.Minute)
	for _, n := range nums {
		if got[n].ReachedOn != "whatsapp" {
			t.Errorf("%s ended %s on %q, want delivered on whatsapp", n, got[n].Outcome, got[n].ReachedOn)
		}
	}
	checkInvariants(t, l.store, l.fk, c.ID, want{order: []string{"whatsapp"}, numbers: nums})
}

// dieOnAnswer is a provider transport for an invocation that dies as
// soon as the provider has accepted: the answer is read, then the
// invocation's context ends, so nothing after it reaches the table.
type dieOnAnswer struct{ die context.CancelFunc }

func (d dieOnAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if res.StatusCode == http.StatusOK {
		d.die()
	}
	return res, nil
}

// crashAfterSend is fault 12: a sender dies after the provider
// accepted and before the attempt was updated. The redelivered message
// sends nothing on that channel for that attempt, on WhatsApp and on
// RCS, and the provider's webhooks still end the journey.
func crashAfterSend(t *testing.T, s *suite) {
	ctx := context.Background()
	viaWA, viaRCS := num(sCrash, 1), num(sCrash, 2)
	l := newLane(t, s, laneOptions{
		numbers: map[string]map[string]providersim.Outcome{"whatsapp": {viaRCS: providersim.TemplatePaused}},
		manual:  map[string]bool{"whatsapp": true, "rcs": true},
		// Webhooks a second after the send, so the attempt can be read
		// as the dead invocation left it.
		delay: time.Second,
	})
	c := l.campaign(t, "fault 12 crash", true, []string{viaWA, viaRCS}, waStep(60), rcsStep(60))
	victim := map[string]string{"whatsapp": viaWA, "rcs": viaRCS}
	healthy := map[string]interface {
		Handle(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	}{"whatsapp": l.sender("whatsapp", http.DefaultClient), "rcs": l.sender("rcs", http.DefaultClient)}
	died := map[string]dynamo.AttemptKeyOf{}

	deadline := time.Now().Add(time.Minute)
	for !ended(t, l, c.ID) {
		if time.Now().After(deadline) {
			t.Fatal("journeys not ended after a minute")
		}
		for _, q := range []string{"whatsapp", "rcs"} {
			msgs, err := l.poll(ctx, q, 1, 2)
			if err != nil || len(msgs) == 0 {
				continue
			}
			var task cascade.Task
			_ = json.Unmarshal([]byte(msgs[0].Body), &task)
			if _, done := died[q]; !done && task.Recipient == victim[q] && task.TaskToken != "" {
				// This invocation dies once the provider accepts; its
				// message is not deleted and comes back in 2 s.
				inv, die := context.WithCancel(ctx)
				_, _ = l.sender(q, &http.Client{Transport: dieOnAnswer{die}}).Handle(inv, events.SQSEvent{Records: msgs})
				die()
				k := dynamo.AttemptKeyOf{Campaign: c.ID, Recipient: task.Recipient, Step: task.Step}
				died[q] = k
				a, err := l.store.Attempt(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				if a.SendingAt == "" || a.ProviderID != "" || a.Status != status.Queued {
					t.Errorf("%s attempt after the crash: claimed %q, provider id %q, %s; want claimed, no id, queued",
						q, a.SendingAt, a.ProviderID, a.Status)
				}
				continue
			}
			resp, err := healthy[q].Handle(ctx, events.SQSEvent{Records: msgs})
			if err == nil {
				_ = l.settle(ctx, q, msgs, resp)
			}
		}
	}
	if len(died) != 2 {
		t.Fatalf("invocations that died: %v, want one per channel", died)
	}
	got := l.waitOutcomes(t, c.ID, time.Second)
	if got[viaWA].ReachedOn != "whatsapp" || got[viaRCS].ReachedOn != "rcs" {
		t.Errorf("outcomes %+v, want delivered on whatsapp and on rcs", got)
	}
	checkInvariants(t, l.store, l.fk, c.ID, want{order: []string{"whatsapp", "rcs"}, numbers: []string{viaWA, viaRCS}})
}

// ended reports whether every journey of a lane campaign has ended.
func ended(t *testing.T, l *lane, id string) bool {
	t.Helper()
	done, n := true, 0
	err := l.store.Recipients(context.Background(), id, func(r dynamo.Recipient) error {
		n++
		done = done && r.Outcome != ""
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return done && n > 0
}

// crashingDB is the DynamoDB client's HTTP client for a status
// processor that dies mid-batch: right after a write whose body holds
// every marker of a crash point has gone through, the invocation's
// context ends. Each point fires once.
type crashingDB struct {
	mu     sync.Mutex
	points [][]string
	fired  []bool
	die    context.CancelFunc
}

func (c *crashingDB) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil || res.StatusCode != http.StatusOK {
		return res, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.points {
		hit := !c.fired[i]
		for _, m := range p {
			hit = hit && bytes.Contains(body, []byte(m))
		}
		if hit && c.die != nil {
			c.fired[i] = true
			c.die()
		}
	}
	return res, nil
}

// streamRetry is fault 13: the status processor dies halfway through
// a stream batch, and the batch is handed over again whole, as Lambda
// retries a batch whose invocation crashed. It dies once right after
// marking a late delivery's callback, and once right after counting a
// late delivery after fallback: each delivery is counted once, no
// counter moves twice.
func streamRetry(t *testing.T, s *suite) {
	ctx := context.Background()
	late1, late2, quick, refused := num(sStream, 1), num(sStream, 2), num(sStream, 3), num(sStream, 4)
	nums := []string{late1, late2, quick, refused}
	l := newLane(t, s, laneOptions{
		numbers: map[string]map[string]providersim.Outcome{"whatsapp": {
			late1: providersim.Late, late2: providersim.Late, refused: providersim.NotOnWhatsApp}},
		lateDelay: 5 * time.Second,
		manual:    map[string]bool{"stream": true},
	})
	c := l.campaign(t, "fault 13 stream", true, nums, waStep(2), rcsStep(30))

	sk := func(n string) string { return `"A#` + n + `#0"` }
	crash := &crashingDB{points: [][]string{{"callbackAt", sk(late1)}, {"afterFallback", sk(late2)}}, fired: make([]bool, 2)}
	crashCl := l.cl
	crashCl.DynamoDB = dynamodb.NewFromConfig(moto.Config(s.st.Endpoint), func(o *dynamodb.Options) { o.HTTPClient = crash })
	dying := function.StatusProcessor(l.cfg, crashCl, l.log("status-processor"))
	healthy := function.StatusProcessor(l.cfg, l.cl, l.log("status-processor"))

	crashes := 0
	deadline := time.Now().Add(time.Minute)
	for !(ended(t, l, c.ID) && afterFallback(t, l, c.ID, late1, late2)) {
		if time.Now().After(deadline) {
			t.Fatalf("not done after a minute: %d crashes, fired %v, after fallback: %v",
				crashes, crash.fired, afterFallbackOf(t, l, c.ID, late1, late2))
		}
		recs, err := l.stream.next(ctx)
		if err != nil || len(recs) == 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		// Lambda hands a batch whose invocation died to the function
		// again, whole; it may die again at another point.
		for tries := 0; tries < 5; tries++ {
			inv, die := context.WithCancel(ctx)
			crash.mu.Lock()
			crash.die = die
			crash.mu.Unlock()
			resp, err := dying.Handle(inv, events.DynamoDBEvent{Records: recs})
			died := inv.Err() != nil
			die()
			if died {
				crashes++
				continue
			}
			if err != nil || len(resp.BatchItemFailures) > 0 {
				deliverAll(ctx, healthy.Handle, recs)
			}
			break
		}
	}
	if crashes != 2 {
		t.Errorf("the processor died %d times, want 2", crashes)
	}
	// Each flagged attempt counts once: the two late ones, and any
	// other whose delivery the slowed stream answered after its 2 s.
	flagged := int64(0)
	err := l.store.Attempts(ctx, c.ID, func(a dynamo.Attempt) error {
		if a.AfterFallback {
			flagged++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	counters, err := l.store.Counters(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := counters["whatsapp"][dynamo.AfterFallback]; got != flagged || got < 2 {
		t.Errorf("afterFallback = %d for %d flagged attempts, want one each and the two late ones", got, flagged)
	}
	checkInvariants(t, l.store, l.fk, c.ID, want{order: []string{"whatsapp", "rcs"}, numbers: nums})
}

// afterFallbackOf describes the named numbers' first attempts.
func afterFallbackOf(t *testing.T, l *lane, id string, nums ...string) []string {
	t.Helper()
	var out []string
	for _, n := range nums {
		a, _ := l.store.Attempt(context.Background(), dynamo.AttemptKeyOf{Campaign: id, Recipient: n})
		out = append(out, fmt.Sprintf("%s %s movedOn=%v afterFallback=%v", n, a.Status, a.MovedOn, a.AfterFallback))
	}
	return out
}

// afterFallback reports whether every named number's first attempt was
// marked delivered after fallback.
func afterFallback(t *testing.T, l *lane, id string, nums ...string) bool {
	t.Helper()
	for _, n := range nums {
		a, err := l.store.Attempt(context.Background(), dynamo.AttemptKeyOf{Campaign: id, Recipient: n})
		if err != nil || !a.AfterFallback {
			return false
		}
	}
	return true
}

// sendAfterTimeout is the other side of fault 8: a send that comes
// after its step timed out and the cascade moved on is not made. One
// recipient's task reaches its sender only then; the other's first try
// was throttled and its retry comes only then. Neither reaches
// WhatsApp, and both journeys end on RCS.
func sendAfterTimeout(t *testing.T, s *suite) {
	ctx := context.Background()
	held, throttled := num(sTimeout, 3), num(sTimeout, 4)
	l := newLane(t, s, laneOptions{
		numbers: map[string]map[string]providersim.Outcome{"whatsapp": {throttled: providersim.Throughput}},
		manual:  map[string]bool{"whatsapp": true},
	})
	c := l.campaign(t, "fault 8 send after timeout", true, []string{held, throttled}, waStep(1), rcsStep(30))
	msgs := l.receive(t, "whatsapp", 2, 60, 30*time.Second)
	byTo := map[string]events.SQSMessage{}
	for _, m := range msgs {
		var task cascade.Task
		_ = json.Unmarshal([]byte(m.Body), &task)
		byTo[task.Recipient] = m
	}
	h := l.sender("whatsapp", http.DefaultClient)
	resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{byTo[throttled]}})
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("throttled send: %+v, %v; want it handed back for a retry", resp, err)
	}

	// Both steps time out and the RCS sender records the move on.
	for _, n := range []string{held, throttled} {
		waitAttempt(t, l.store, c.ID, n, 0, 30*time.Second, func(a dynamo.Attempt) bool { return a.MovedOn })
	}
	late := []events.SQSMessage{byTo[held]}
	late = append(late, l.receive(t, "whatsapp", 1, 60, 30*time.Second)...)
	resp, err = h.Handle(ctx, events.SQSEvent{Records: late})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("late sends: %+v, %v; want both taken", resp, err)
	}
	if err := l.settle(ctx, "whatsapp", late, resp); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{held, throttled} {
		for _, r := range l.fk.wa.Requests() {
			if r.To == n && r.Status == http.StatusOK {
				t.Errorf("%s: WhatsApp accepted a send after the cascade moved on", n)
			}
		}
	}
	got := l.waitOutcomes(t, c.ID, time.Minute)
	for _, n := range []string{held, throttled} {
		if got[n].ReachedOn != "rcs" {
			t.Errorf("%s ended %s on %q, want delivered on rcs", n, got[n].Outcome, got[n].ReachedOn)
		}
	}
	checkInvariants(t, l.store, l.fk, c.ID, want{order: []string{"whatsapp", "rcs"}, numbers: []string{held, throttled}})
}
