package faults

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/function"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/status"
	"github.com/cascade-oss/cascade/internal/webhook"
)

// jsonHeaders are a Meta webhook POST's headers.
func jsonHeaders(sig string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": sig}
}

// escapedBody is fault 1: a webhook with \/, \u00e9 and an emoji as a
// surrogate pair is verified over the bytes as received. A verifier
// that parsed and re-encoded the JSON first would hash other bytes:
// the test shows the re-encoding differs, and that our edge refuses
// the re-encoded body under the original signature.
func escapedBody(t *testing.T, s *suite) {
	to := num(sEscapes, 1)
	id := s.create(t, "fault 1 escapes", true, audience(to), waStep(120), rcsStep(30))
	a := waitAttempt(t, s.st.Store, id, to, 0, 30*time.Second, submitted)

	body := waBody("caf\u00e9 \U0001F600 a/b", waStatus{wamid: a.ProviderID, status: "delivered", attempt: a.ID, to: to})
	// The attempt id's dashes go escaped too, so matching the attempt
	// proves the parser reads the escapes it was verified with.
	body = bytes.Replace(body, []byte(a.ID), []byte(strings.ReplaceAll(a.ID, "-", `\u002d`)), 1)
	for _, esc := range []string{`\/`, `\u00e9`, `\ud83d\ude00`, `\u002d`} {
		if !bytes.Contains(body, []byte(esc)) {
			t.Fatalf("test body lacks %s: %s", esc, body)
		}
	}
	sig := metaSign(body)

	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	reencoded, _ := json.Marshal(v)
	if bytes.Equal(reencoded, body) || metaSign(reencoded) == sig {
		t.Fatalf("re-encoding kept the bytes; the test proves nothing")
	}
	if code := post(t, s.hookURL("whatsapp"), "whatsapp", reencoded, jsonHeaders(sig)); code != 401 {
		t.Errorf("re-encoded body under the original signature: status %d, want 401", code)
	}
	if got := attemptStatus(t, s.st.Store, a.Key()); got != status.Submitted {
		t.Errorf("after the refused body the attempt is %s, want submitted", got)
	}
	if code := post(t, s.hookURL("whatsapp"), "whatsapp", body, jsonHeaders(sig)); code != 200 {
		t.Fatalf("body as sent: status %d, want 200", code)
	}
	if got := attemptStatus(t, s.st.Store, a.Key()); got != status.Delivered {
		t.Errorf("attempt = %s, want delivered", got)
	}

	got := s.wait(t, id, time.Minute)
	if got.Reached.By["whatsapp"] != 1 {
		t.Errorf("reached = %+v, want 1 on whatsapp", got.Reached)
	}
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs"}, numbers: []string{to}})
}

// base64Body is fault 2: the same kind of body handed over by a
// function URL with isBase64Encoded true is decoded before it is
// verified, whatever the case of the header names.
func base64Body(t *testing.T, s *suite) {
	ctx := context.Background()
	viaGateway, direct := num(sBase64, 1), num(sBase64, 2)
	id := s.create(t, "fault 2 base64", true, audience(viaGateway, direct), waStep(120), rcsStep(30))
	a1 := waitAttempt(t, s.st.Store, id, viaGateway, 0, 30*time.Second, submitted)
	a2 := waitAttempt(t, s.st.Store, id, direct, 0, 30*time.Second, submitted)

	// Through the gateway: a body that is not JSON or text reaches the
	// function base64-encoded, as on Lambda.
	b1 := waBody("\u00e9t\u00e9/\U0001F4E6", waStatus{wamid: a1.ProviderID, status: "read", attempt: a1.ID, to: viaGateway})
	code := post(t, s.hookURL("whatsapp"), "whatsapp", b1, map[string]string{
		"Content-Type": "application/octet-stream", "x-HUB-signature-256": metaSign(b1)})
	if code != 200 {
		t.Errorf("base64 body through the gateway: status %d, want 200", code)
	}

	// Straight to the handler, with header names in capitals, which
	// the gateway would have lower-cased.
	h := function.Webhook("whatsapp", s.st.Config, s.st.Clients, logging.New(s.logs, "webhook-whatsapp"))
	b2 := waBody("\u00fcber/\U0001F680", waStatus{wamid: a2.ProviderID, status: "delivered", attempt: a2.ID, to: direct})
	ev := func(sig string) events.LambdaFunctionURLRequest {
		e := events.LambdaFunctionURLRequest{RawQueryString: "tenant=" + s.st.Tenant,
			Headers:         map[string]string{"X-HUB-SIGNATURE-256": sig, "CONTENT-TYPE": "application/json"},
			Body:            base64.StdEncoding.EncodeToString(b2),
			IsBase64Encoded: true}
		e.RequestContext.HTTP.Method = "POST"
		return e
	}
	// A signature over the encoded text proves nothing about the body.
	res, _ := h.Handle(ctx, ev(metaSign([]byte(base64.StdEncoding.EncodeToString(b2)))))
	if res.StatusCode != 401 {
		t.Errorf("signature over the base64 text: status %d, want 401", res.StatusCode)
	}
	res, err := h.Handle(ctx, ev(metaSign(b2)))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("base64 body with capital header names: %d %v, want 200", res.StatusCode, err)
	}
	rememberHook("whatsapp", "application/json", b2)

	if got := attemptStatus(t, s.st.Store, a1.Key()); got != status.Read {
		t.Errorf("gateway attempt = %s, want read", got)
	}
	if got := attemptStatus(t, s.st.Store, a2.Key()); got != status.Delivered {
		t.Errorf("direct attempt = %s, want delivered", got)
	}
	got := s.wait(t, id, time.Minute)
	if got.Reached.By["whatsapp"] != 2 {
		t.Errorf("reached = %+v, want 2 on whatsapp", got.Reached)
	}
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs"}, numbers: []string{viaGateway, direct}})
}

// threeStatuses is fault 3: one POST with statuses for three messages
// applies all three.
func threeStatuses(t *testing.T, s *suite) {
	nums := []string{num(sThree, 1), num(sThree, 2), num(sThree, 3)}
	id := s.create(t, "fault 3 three statuses", true, audience(nums...), waStep(120), rcsStep(30))
	var sts []waStatus
	var keys []dynamo.AttemptKeyOf
	for i, n := range nums {
		a := waitAttempt(t, s.st.Store, id, n, 0, 30*time.Second, submitted)
		st := waStatus{wamid: a.ProviderID, attempt: a.ID, to: n, status: []string{"delivered", "read", "failed"}[i]}
		if st.status == "failed" {
			st.code = 131026 // not on WhatsApp: fall back now
		}
		sts = append(sts, st)
		keys = append(keys, a.Key())
	}
	body := waBody("", sts...)
	if code := post(t, s.hookURL("whatsapp"), "whatsapp", body, jsonHeaders(metaSign(body))); code != 200 {
		t.Fatalf("status %d, want 200", code)
	}
	for i, wantSt := range []status.Status{status.Delivered, status.Read, status.Failed} {
		if got := attemptStatus(t, s.st.Store, keys[i]); got != wantSt {
			t.Errorf("%s = %s, want %s", nums[i], got, wantSt)
		}
	}
	got := s.wait(t, id, time.Minute)
	if got.Reached.By["whatsapp"] != 2 || got.Reached.By["rcs"] != 1 {
		t.Errorf("reached = %+v, want 2 on whatsapp and 1 on rcs", got.Reached)
	}
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs"}, numbers: nums})
}

// outOfOrder is fault 4: read, delivered, delivered again and a late
// sent for one message end at read, with delivered and read counted
// once each, nothing downgraded and one callback.
func outOfOrder(t *testing.T, s *suite) {
	ctx := context.Background()
	to := num(sOrder, 1)
	id := s.create(t, "fault 4 order", true, audience(to), waStep(120), rcsStep(30))
	a := waitAttempt(t, s.st.Store, id, to, 0, 30*time.Second, submitted)
	for _, st := range []string{"read", "delivered", "delivered", "sent"} {
		body := waBody("", waStatus{wamid: a.ProviderID, attempt: a.ID, to: to, status: st})
		if code := post(t, s.hookURL("whatsapp"), "whatsapp", body, jsonHeaders(metaSign(body))); code != 200 {
			t.Fatalf("%s: status %d, want 200", st, code)
		}
		if got := attemptStatus(t, s.st.Store, a.Key()); got != status.Read {
			t.Errorf("after %s the attempt is %s, want read", st, got)
		}
	}
	s.wait(t, id, time.Minute)
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs"}, numbers: []string{to}})

	c, err := s.st.Store.Counters(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"queued", "submitted", "sent", "delivered", "read"} {
		if c["whatsapp"][name] != 1 {
			t.Errorf("whatsapp %s = %d, want 1", name, c["whatsapp"][name])
		}
	}
	if n := len(s.logs.records("task answered", map[string]string{"attemptId": a.ID})); n != 1 {
		t.Errorf("task answered %d times, want once", n)
	}
}

// failingWrites is a DynamoDB client whose every write fails, as a
// table that throttles or cannot be reached; reads still work.
type failingWrites struct{ dynamo.API }

var errTableDown = errors.New("table unavailable (injected)")

func (failingWrites) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errTableDown
}

func (failingWrites) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errTableDown
}

func (failingWrites) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, errTableDown
}

// tableDown is fault 6: a webhook that arrives while the table write
// fails gets a 5xx so the provider retries, never a 200 for something
// not stored; the retry is applied. A validly signed body of an
// unexpected shape gets a 200 and is parked, and so is the odd part of
// a batch whose other statuses are applied.
func tableDown(t *testing.T, s *suite) {
	ctx := context.Background()
	first, second := num(sTableDown, 1), num(sTableDown, 2)
	id := s.create(t, "fault 6 table down", true, audience(first, second), waStep(120), rcsStep(30))
	a := waitAttempt(t, s.st.Store, id, first, 0, 30*time.Second, submitted)
	b := waitAttempt(t, s.st.Store, id, second, 0, 30*time.Second, submitted)

	down := webhook.New(webhook.WhatsApp{}, dynamo.New(failingWrites{s.st.Clients.DynamoDB}, s.st.Config.Table),
		secretStore(s.st), logging.New(s.logs, "webhook-whatsapp"), nil)
	call := func(body []byte) int {
		e := events.LambdaFunctionURLRequest{RawQueryString: "tenant=" + s.st.Tenant, Body: string(body),
			Headers: map[string]string{"content-type": "application/json", "x-hub-signature-256": metaSign(body)}}
		e.RequestContext.HTTP.Method = "POST"
		res, err := down.Handle(ctx, e)
		if err != nil {
			t.Fatalf("handler returned an error: %v", err)
		}
		return res.StatusCode
	}
	known := waBody("", waStatus{wamid: a.ProviderID, attempt: a.ID, to: first, status: "delivered"})
	early := waBody("", waStatus{wamid: "wamid.early", attempt: "00000000-0000-5000-8000-00000000e6e6",
		to: num(sTableDown, 3), status: "delivered"})
	for name, body := range map[string][]byte{"known attempt": known, "early status": early} {
		if code := call(body); code < 500 {
			t.Errorf("%s while writes fail: status %d, want 5xx", name, code)
		}
	}
	if got := attemptStatus(t, s.st.Store, a.Key()); got != status.Submitted {
		t.Errorf("attempt after the failed write = %s, want submitted", got)
	}
	if evs, _, err := s.st.Store.Pending(ctx, dynamo.MessageKey("whatsapp", "00000000-0000-5000-8000-00000000e6e6")); err != nil || len(evs) != 0 {
		t.Errorf("pending after the failed write = %v, %v; want nothing kept", evs, err)
	}
	// The provider retries; the table is back.
	if code := post(t, s.hookURL("whatsapp"), "whatsapp", known, jsonHeaders(metaSign(known))); code != 200 {
		t.Errorf("retry: status %d, want 200", code)
	}

	// Verified bodies that carry nothing to apply are parked with a
	// 200; an odd status beside a good one is parked, the good one
	// applied.
	odd := map[string][]byte{
		"unknown object": []byte(`{"object":"page","entry":[{"id":"6","marker":"fault6-object"}]}`),
		"inbound message": []byte(`{"object":"whatsapp_business_account","entry":[{"id":"6","changes":[{"field":"messages",` +
			`"value":{"messages":[{"from":"919900000000","id":"wamid.in","type":"text","text":{"body":"fault6-inbound"}}]}}]}]}`),
		"mixed batch": waBody("fault6-mixed",
			waStatus{wamid: b.ProviderID, attempt: b.ID, to: second, status: "delivered"},
			waStatus{wamid: b.ProviderID, attempt: b.ID, to: second, status: "played"}),
	}
	for name, body := range odd {
		if code := post(t, s.hookURL("whatsapp"), "whatsapp", body, jsonHeaders(metaSign(body))); code != 200 {
			t.Errorf("%s: status %d, want 200", name, code)
		}
	}
	parked := parkedBodies(t, s, "whatsapp")
	for _, marker := range []string{"fault6-object", "fault6-inbound", `"played"`} {
		found := false
		for _, p := range parked {
			found = found || strings.Contains(p, marker) && (marker != `"played"` || strings.Contains(p, b.ID))
		}
		if !found {
			t.Errorf("nothing parked holds %s", marker)
		}
	}
	if got := attemptStatus(t, s.st.Store, b.Key()); got != status.Delivered {
		t.Errorf("attempt of the mixed batch = %s, want delivered", got)
	}

	s.wait(t, id, time.Minute)
	checkInvariants(t, s.st.Store, s.fakes(), id, want{order: []string{"whatsapp", "rcs"}, numbers: []string{first, second}})
}

// parkedBodies returns the bodies parked for a channel.
func parkedBodies(t *testing.T, s *suite, ch string) []string {
	t.Helper()
	var out []string
	p := dynamodb.NewQueryPaginator(s.st.Clients.DynamoDB, &dynamodb.QueryInput{
		TableName:              aws.String(s.st.Config.Table),
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "PARK#" + ch}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if b, ok := it["body"].(*types.AttributeValueMemberS); ok {
				out = append(out, b.Value)
			}
		}
	}
	return out
}

func attemptStatus(t *testing.T, store *dynamo.Store, k dynamo.AttemptKeyOf) status.Status {
	t.Helper()
	a, err := store.Attempt(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return a.Status
}

// rememberHook notes a webhook a scenario handed to a handler directly
// and saw answered 200.
func rememberHook(ch, contentType string, body []byte) {
	postedMu.Lock()
	defer postedMu.Unlock()
	postedBy = append(postedBy, hook{ch, contentType, body})
}
