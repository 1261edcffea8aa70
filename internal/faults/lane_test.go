package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/devstack"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/fanout"
	"github.com/cascade-oss/cascade/internal/function"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/moto"
	"github.com/cascade-oss/cascade/internal/phone"
	"github.com/cascade-oss/cascade/internal/providersim"
	"github.com/cascade-oss/cascade/internal/secrets"
)

// secretStore reads provider credentials from the stack's Secrets
// Manager, as every handler does.
func secretStore(st *devstack.Stack) *secrets.Store {
	return secrets.New(st.Clients.Secrets, st.Config.SecretPrefix, time.Minute)
}

// A lane is a table, queues and a cascade state machine of its own in
// the shared moto server, with provider fakes of its own and a gateway
// for their webhooks. The lane runs the event sources itself: the
// queues and the stream named in laneOptions.manual are left for the
// scenario to hand to the real handlers; the others are pumped in the
// background, as the local stack does.
type lane struct {
	s      *suite
	cfg    function.Config
	cl     function.Clients
	store  *dynamo.Store
	queues map[string]string
	fk     fakes
	// stream reads the lane table's stream.
	stream *streamReader

	campaigns []string
	servers   []*httptest.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// laneOptions shape a lane.
type laneOptions struct {
	numbers map[string]map[string]providersim.Outcome
	// smsEarly posts each SMS delivery report before the send is
	// answered (the fake's Early knob).
	smsEarly  bool
	lateDelay time.Duration
	// delay comes before each webhook; hookDelay if zero.
	delay time.Duration
	// wrap puts a handler in front of a channel's fake.
	wrap map[string]func(http.Handler) http.Handler
	// hc is the senders' HTTP client; nil means http.DefaultClient.
	hc *http.Client
	// manual names what the scenario pumps itself: queue names and
	// "stream".
	manual map[string]bool
}

// laneSeed gives each lane's fakes their own ids.
var laneSeed atomic.Int64

var laneQueues = []string{"whatsapp", "rcs", "sms", "outcome"}

func newLane(t *testing.T, s *suite, o laneOptions) *lane {
	t.Helper()
	ctx := context.Background()
	st := s.st
	name := awstest.Name(t, "lane")
	l := &lane{s: s, cl: st.Clients, cfg: st.Config, queues: map[string]string{}}
	l.cfg.Table = name
	if err := dynamo.CreateTable(ctx, l.cl.DynamoDB, name); err != nil {
		t.Fatal(err)
	}
	l.store = dynamo.New(l.cl.DynamoDB, name)
	desc, err := l.cl.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	l.stream = &streamReader{client: dynamodbstreams.NewFromConfig(moto.Config(st.Endpoint)),
		arn: aws.ToString(desc.Table.LatestStreamArn), its: map[string]*string{}}
	for _, q := range laneQueues {
		out, err := l.cl.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-" + q)})
		if err != nil {
			t.Fatal(err)
		}
		l.queues[q] = aws.ToString(out.QueueUrl)
	}
	def, err := cascade.Definition(map[string]string{
		"WhatsAppQueueUrl": l.queues["whatsapp"], "RcsQueueUrl": l.queues["rcs"],
		"SmsQueueUrl": l.queues["sms"], "OutcomeQueueUrl": l.queues["outcome"],
	})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := l.cl.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::" + moto.Account + ":role/cascade-local"),
		Type:    sfntypes.StateMachineTypeStandard,
	})
	if err != nil {
		t.Fatal(err)
	}
	l.cfg.StateMachineARN = aws.ToString(sm.StateMachineArn)

	// The tenant's channels, as the shared stack's API stored them.
	for _, ch := range []string{"whatsapp", "rcs", "sms"} {
		c, err := st.Store.Channel(ctx, st.Tenant, ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.store.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	l.startFakes(t, o)

	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	hc := o.hc
	if hc == nil {
		hc = http.DefaultClient
	}
	for _, q := range []string{"whatsapp", "rcs", "sms"} {
		if !o.manual[q] {
			h := l.sender(q, hc).Handle
			l.pump(runCtx, q, h)
		}
	}
	if !o.manual["outcome"] {
		l.pump(runCtx, "outcome", function.Outcome(l.cfg, l.cl, l.log("outcome")).Handle)
	}
	if !o.manual["stream"] {
		p := function.StatusProcessor(l.cfg, l.cl, l.log("status-processor"))
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.pumpStream(runCtx, p.Handle)
		}()
	}
	s.mu.Lock()
	s.lanes = append(s.lanes, l)
	s.mu.Unlock()
	t.Cleanup(func() { l.close(context.Background()) })
	return l
}

// startFakes starts the lane's provider fakes and the gateway their
// webhooks go to.
func (l *lane) startFakes(t *testing.T, o laneOptions) {
	t.Helper()
	seed := uint64(laneSeed.Add(1))
	delay := o.delay
	if delay == 0 {
		delay = hookDelay
	}
	base := func(ch string, early bool) providersim.Config {
		return providersim.Config{
			Script: providersim.Script{Numbers: o.numbers[ch], Seed: seed},
			Delay:  delay, LateDelay: o.lateDelay, Batch: 5,
			BatchWindow: 20 * time.Millisecond, Early: early, Concurrency: 4,
		}
	}
	var err error
	l.fk.wa, err = providersim.NewWhatsApp(providersim.WhatsAppConfig{Config: base("whatsapp", false),
		Token: devstack.FakeWhatsAppToken, PhoneNumberID: devstack.FakePhoneNumberID,
		AppSecret: devstack.FakeAppSecret})
	if err != nil {
		t.Fatal(err)
	}
	l.fk.rbm, err = providersim.NewRBM(providersim.RBMConfig{Config: base("rcs", false),
		Token: devstack.FakeRBMToken, AgentID: devstack.FakeAgentID, ClientToken: devstack.FakeClientToken})
	if err != nil {
		t.Fatal(err)
	}
	l.fk.sms, err = providersim.NewMSG91(providersim.MSG91Config{Config: base("sms", o.smsEarly),
		AuthKey: devstack.FakeAuthKey})
	if err != nil {
		t.Fatal(err)
	}
	l.fk.extra = l.s.posted

	serve := func(ch string, h http.Handler) string {
		if w := o.wrap[ch]; w != nil {
			h = w(h)
		}
		srv := httptest.NewServer(h)
		l.servers = append(l.servers, srv)
		return srv.URL
	}
	l.cfg.WhatsAppAPIURL = serve("whatsapp", l.fk.wa)
	l.cfg.RBMAPIURL = serve("rcs", l.fk.rbm)
	l.cfg.MSG91APIURL = serve("sms", l.fk.sms)

	gw := httptest.NewServer(&devstack.Gateway{Webhooks: map[string]devstack.URLHandler{
		"/hooks/whatsapp": function.Webhook("whatsapp", l.cfg, l.cl, l.log("webhook-whatsapp")).Handle,
		"/hooks/rcs":      function.Webhook("rcs", l.cfg, l.cl, l.log("webhook-rcs")).Handle,
		"/hooks/sms":      function.Webhook("sms", l.cfg, l.cl, l.log("webhook-sms")).Handle,
	}})
	l.servers = append(l.servers, gw)
	tenant := url.Values{"tenant": {l.s.st.Tenant}}
	l.fk.wa.SetWebhookURL(gw.URL + "/hooks/whatsapp?" + tenant.Encode())
	l.fk.rbm.SetWebhookURL(gw.URL + "/hooks/rcs?" + tenant.Encode())
	tenant.Set("token", l.s.smsToken)
	l.fk.sms.SetWebhookURL(gw.URL + "/hooks/sms?" + tenant.Encode())
	l.cfg.WebhookWhatsApp = gw.URL + "/hooks/whatsapp"
}

// hookURL is the lane's WhatsApp webhook URL.
func (l *lane) hookURL() string {
	return l.cfg.WebhookWhatsApp + "?tenant=" + l.s.st.Tenant
}

func (l *lane) log(function string) *slog.Logger { return logging.New(l.s.logs, function) }

// sender builds the real sender of a channel for the lane, calling
// providers with hc.
func (l *lane) sender(ch string, hc *http.Client) interface {
	Handle(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
} {
	c := l.cfg
	c.QueueURL = l.queues[ch]
	return function.Sender(ch, c, l.cl, l.log("sender-"+ch), hc, senderBackoff)
}

// close stops the pumps, the fakes, their servers and the lane's
// running executions.
func (l *lane) close(ctx context.Context) {
	if l.cancel == nil {
		return
	}
	l.cancel()
	l.cancel = nil
	l.wg.Wait()
	for _, s := range l.servers {
		s.Close()
	}
	l.fk.wa.Close()
	l.fk.rbm.Close()
	l.fk.sms.Close()
	p := sfn.NewListExecutionsPaginator(l.cl.SFN, &sfn.ListExecutionsInput{
		StateMachineArn: aws.String(l.cfg.StateMachineARN), StatusFilter: sfntypes.ExecutionStatusRunning,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, e := range page.Executions {
			_, _ = l.cl.SFN.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: e.ExecutionArn})
		}
	}
}

// campaign stores a campaign through the shared stack's API (so it is
// validated as any other), copies it into the lane's table as running,
// adds the recipients and, with start, starts their cascades.
func (l *lane) campaign(t *testing.T, name string, start bool, numbers []string, steps ...map[string]any) campaign.Campaign {
	t.Helper()
	ctx := context.Background()
	rows := audience(numbers...)
	id := l.s.create(t, name, false, rows, steps...)
	c, err := l.s.st.Store.Campaign(ctx, l.s.st.Tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	c.State = campaign.Running
	if err := l.store.PutCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	l.campaigns = append(l.campaigns, id)
	for i, n := range numbers {
		vars := map[string]string{}
		for k, v := range rows[i]["vars"].(map[string]string) {
			vars[k] = v
		}
		_, _, err := l.store.AddRecipient(ctx, dynamo.Recipient{Campaign: id, Phone: n, Row: i + 1, Vars: vars})
		if err != nil {
			t.Fatal(err)
		}
		if start {
			l.start(t, c, n)
		}
	}
	return c
}

// start begins one recipient's cascade on the lane's state machine,
// with the input fan-out would give it.
func (l *lane) start(t *testing.T, c campaign.Campaign, n string) {
	t.Helper()
	in, err := fanout.NewInput(c, phone.Number(n))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(in)
	_, err = l.cl.SFN.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(l.cfg.StateMachineARN),
		Name:            aws.String(fanout.ExecutionName(c.ID, laneRow(n))),
		Input:           aws.String(string(raw)),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitOutcomes waits until every recipient of the campaign has an
// outcome, and returns them by number.
func (l *lane) waitOutcomes(t *testing.T, id string, limit time.Duration) map[string]dynamo.Recipient {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := map[string]dynamo.Recipient{}
		done := true
		err := l.store.Recipients(context.Background(), id, func(r dynamo.Recipient) error {
			got[r.Phone] = r
			done = done && r.Outcome != ""
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if done && len(got) > 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("lane campaign %s: journeys not ended after %s: %+v", id, limit, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// receive takes n messages off a lane queue, hidden for visibility
// seconds, waiting up to limit for them.
func (l *lane) receive(t *testing.T, q string, n int, visibility int32, limit time.Duration) []events.SQSMessage {
	t.Helper()
	var out []events.SQSMessage
	deadline := time.Now().Add(limit)
	for len(out) < n {
		if time.Now().After(deadline) {
			t.Fatalf("queue %s: %d of %d messages after %s", q, len(out), n, limit)
		}
		msgs, err := l.poll(context.Background(), q, int32(n-len(out)), visibility)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, msgs...)
	}
	return out
}

// poll makes one receive call, as an event source mapping does, and
// turns the messages into the records Lambda hands a handler.
func (l *lane) poll(ctx context.Context, q string, max, visibility int32) ([]events.SQSMessage, error) {
	res, err := l.cl.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(l.queues[q]), MaxNumberOfMessages: max,
		WaitTimeSeconds: 1, VisibilityTimeout: visibility,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", q, err)
	}
	out := make([]events.SQSMessage, len(res.Messages))
	for i, m := range res.Messages {
		out[i] = events.SQSMessage{MessageId: aws.ToString(m.MessageId),
			ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Attributes: m.Attributes, EventSource: "aws:sqs", AWSRegion: moto.Region}
	}
	return out, nil
}

// settle deletes the messages a handler did not report as failed, as
// the event source mapping does after an invocation.
func (l *lane) settle(ctx context.Context, q string, msgs []events.SQSMessage, resp events.SQSEventResponse) error {
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range msgs {
		if failed[m.MessageId] {
			continue
		}
		_, err := l.cl.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{
			QueueUrl: aws.String(l.queues[q]), ReceiptHandle: aws.String(m.ReceiptHandle)})
		if err != nil {
			return fmt.Errorf("delete from %s: %w", q, err)
		}
	}
	return nil
}

// pump hands a queue's batches to h until the lane closes.
func (l *lane) pump(ctx context.Context, q string, h devstack.SQSHandler) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for ctx.Err() == nil {
			msgs, err := l.poll(ctx, q, 10, 30)
			if err != nil || len(msgs) == 0 {
				continue
			}
			resp, err := h(ctx, events.SQSEvent{Records: msgs})
			if err != nil {
				continue // the whole batch comes back
			}
			_ = l.settle(ctx, q, msgs, resp)
		}
	}()
}

// pumpStream hands the lane's stream to h until the lane closes; a
// reported failure is retried from its record, never skipped.
func (l *lane) pumpStream(ctx context.Context, h devstack.StreamHandler) {
	for ctx.Err() == nil {
		recs, err := l.stream.next(ctx)
		if err != nil || len(recs) == 0 {
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		deliverAll(ctx, h, recs)
	}
}

// deliverAll hands records to h until it takes them all, retrying from
// the first it reports, as Lambda's stream source does.
func deliverAll(ctx context.Context, h devstack.StreamHandler, recs []events.DynamoDBEventRecord) {
	for len(recs) > 0 && ctx.Err() == nil {
		resp, err := h(ctx, events.DynamoDBEvent{Records: recs})
		if err == nil && len(resp.BatchItemFailures) == 0 {
			return
		}
		if err == nil {
			for i, r := range recs {
				if r.Change.SequenceNumber == resp.BatchItemFailures[0].ItemIdentifier {
					recs = recs[i:]
					break
				}
			}
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// streamReader reads every shard of a table's stream from its start,
// remembering where each shard was left.
type streamReader struct {
	client *dynamodbstreams.Client
	arn    string
	its    map[string]*string // next iterator by shard; nil once closed
}

// next returns the records written since the last call, every shard's
// in order.
func (r *streamReader) next(ctx context.Context) ([]events.DynamoDBEventRecord, error) {
	desc, err := r.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(r.arn)})
	if err != nil {
		return nil, fmt.Errorf("describe stream: %w", err)
	}
	var out []events.DynamoDBEventRecord
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		it, seen := r.its[id]
		if !seen {
			got, err := r.client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(r.arn), ShardId: aws.String(id),
				ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				return nil, fmt.Errorf("shard iterator: %w", err)
			}
			it = got.ShardIterator
		}
		if it == nil {
			continue
		}
		res, err := r.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(1000)})
		if err != nil {
			return nil, fmt.Errorf("get records: %w", err)
		}
		r.its[id] = res.NextShardIterator
		for _, rec := range res.Records {
			out = append(out, devstack.LambdaRecord(rec, r.arn))
		}
	}
	return out, nil
}

// executionARN is the ARN of the execution named for a campaign's
// audience row on a state machine.
func executionARN(machine, campaignID string, row int) string {
	return executionPrefix(machine) + fanout.ExecutionName(campaignID, row)
}

// laneRow stands in for the audience row of a number a lane starts by
// hand: its last four digits, unique among a scenario's numbers.
func laneRow(n string) int {
	row, _ := strconv.Atoi(n[len(n)-4:])
	return row
}

func executionPrefix(machine string) string {
	return strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":"
}

// taskEvents counts an execution's history events of each type.
func taskEvents(t *testing.T, c *sfn.Client, arn string) map[sfntypes.HistoryEventType]int {
	t.Helper()
	out := map[sfntypes.HistoryEventType]int{}
	p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("execution history: %v", err)
		}
		for _, e := range page.Events {
			out[e.Type]++
		}
	}
	return out
}
