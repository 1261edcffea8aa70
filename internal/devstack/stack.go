package devstack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/function"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/moto"
)

// Options shape a stack.
type Options struct {
	// Endpoint is a running moto server to use; empty starts one from
	// Venv, stopped with the stack.
	Endpoint string
	Venv     string
	// Prefix names the stack's resources; a random one if empty.
	Prefix string
	// Addr is the gateway's listen address; 127.0.0.1:0 if empty.
	Addr string
	// Log receives the handlers' JSON logs; MotoLog moto's output.
	Log, MotoLog io.Writer
	// Seed and Mix script the provider fakes' outcomes.
	Seed int64
	// Fakes tunes the provider fakes (see fakes.go).
	Fakes FakeOptions
	// MaxInFlight caps each campaign's journeys under way, so moto's
	// single Python process keeps up; 60 if zero.
	MaxInFlight int64
	// SenderBackoff is the senders' first retry delay.
	SenderBackoff time.Duration
}

// Stack is a running local stack.
type Stack struct {
	URL      string // the gateway: API and webhook function URLs
	Endpoint string // moto
	Tenant   string
	Token    string
	JWT      *DevJWT
	Store    *dynamo.Store
	Clients  function.Clients
	Config   function.Config
	Fakes    *Fakes
	Sources  map[string]*SQSSource
	Stream   *StreamSource
	SFNArn   string

	moto   *moto.Server
	server *http.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// DemoTenant is the tenant the dev token belongs to.
const DemoTenant = "demo"

// Start builds and starts a stack. Stop ends everything it started.
func Start(ctx context.Context, o Options) (st *Stack, err error) {
	st = &Stack{Tenant: DemoTenant}
	defer func() {
		if err != nil {
			st.Stop()
		}
	}()
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.MotoLog == nil {
		o.MotoLog = io.Discard
	}
	if o.Prefix == "" {
		o.Prefix = "cascade-" + randomHex(4)
	}
	if err := st.startMoto(ctx, o); err != nil {
		return st, err
	}
	awsCfg := moto.Config(st.Endpoint)

	ln, err := net.Listen("tcp", firstNonEmpty(o.Addr, "127.0.0.1:0"))
	if err != nil {
		return st, fmt.Errorf("listen for the gateway: %w", err)
	}
	st.URL = "http://" + ln.Addr().String()

	st.Fakes, err = startFakes(o.Seed, o.Fakes)
	if err != nil {
		ln.Close()
		return st, err
	}
	st.Config = function.Config{
		SecretPrefix:       o.Prefix + "/",
		WebhookWhatsApp:    st.URL + "/hooks/whatsapp",
		WebhookRCS:         st.URL + "/hooks/rcs",
		WebhookSMS:         st.URL + "/hooks/sms",
		WhatsAppAPIURL:     st.Fakes.WhatsAppURL,
		WhatsAppAPIVersion: "v25.0",
		RBMAPIURL:          st.Fakes.RBMURL,
		MSG91APIURL:        st.Fakes.MSG91URL,
		S3PathStyle:        true,
		MaxInFlight:        firstInt(o.MaxInFlight, 60),
	}
	st.Clients = function.NewClients(awsCfg, st.Config)
	res, err := createResources(ctx, st.Clients, o.Prefix)
	if err != nil {
		ln.Close()
		return st, err
	}
	st.Config.Table, st.Config.Bucket = res.table, res.bucket
	st.Config.FanoutQueueURL = res.queueURLs[QueueFanout]
	st.Config.ReportQueueURL = res.queueURLs[QueueReport]
	st.Store = dynamo.New(st.Clients.DynamoDB, res.table)

	st.SFNArn, err = createStateMachine(ctx, st.Clients.SFN, o.Prefix, res.queueURLs)
	if err != nil {
		ln.Close()
		return st, err
	}
	st.Config.StateMachineARN = st.SFNArn

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	st.JWT = &DevJWT{Secret: secret}
	st.Token = st.JWT.Sign(st.Tenant, 24*time.Hour)

	runCtx, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	st.wire(runCtx, res, o, awsCfg, ln)
	return st, nil
}

func (st *Stack) startMoto(ctx context.Context, o Options) error {
	if o.Endpoint != "" {
		st.Endpoint = o.Endpoint
		return nil
	}
	venv := o.Venv
	if venv == "" {
		v, err := moto.FindVenv()
		if err != nil {
			return err
		}
		venv = v
	}
	srv, err := moto.Start(ctx, venv, o.MotoLog)
	if err != nil {
		return err
	}
	st.moto, st.Endpoint = srv, srv.URL
	return nil
}

// wire builds every handler and starts the event sources and gateway.
func (st *Stack) wire(ctx context.Context, res resources, o Options, awsCfg aws.Config, ln net.Listener) {
	logFor := func(name string) *slog.Logger { return logging.New(o.Log, name) }
	cfg, cl := st.Config, st.Clients

	st.Sources = map[string]*SQSSource{}
	add := func(q string, h SQSHandler, batch int32, pollers int, vis int32) {
		st.Sources[q] = &SQSSource{Name: q, QueueURL: res.queueURLs[q], QueueARN: res.queueARNs[q],
			Handler: h, BatchSize: batch, Pollers: pollers, Visibility: vis}
	}
	add(QueueFanout, function.Fanout(cfg, cl, logFor("fanout")).Handle, 1, 2, 60)
	add(QueueOutcome, function.Outcome(cfg, cl, logFor("outcome")).Handle, 10, 2, 30)
	add(QueueReport, function.ReportExport(cfg, cl, logFor("report-export")).Handle, 1, 1, 120)
	for _, ch := range []string{QueueWhatsApp, QueueRCS, QueueSMS} {
		sc := cfg
		sc.QueueURL = res.queueURLs[ch]
		h := function.Sender(ch, sc, cl, logFor("sender-"+ch), http.DefaultClient, o.SenderBackoff)
		add(ch, h.Handle, 10, 3, 30)
	}
	for _, s := range st.Sources {
		s.run(ctx, cl.SQS, logFor("devstack"), &st.wg)
	}

	st.Stream = &StreamSource{StreamARN: res.streamARN, BatchSize: 1000, Parallel: 10,
		Handler: function.StatusProcessor(cfg, cl, logFor("status-processor")).Handle}
	st.Stream.run(ctx, dynamodbstreams.NewFromConfig(awsCfg), logFor("devstack"), &st.wg)

	gw := &Gateway{
		API: function.API(cfg, cl, logFor("api")).Handle,
		JWT: st.JWT,
		Webhooks: map[string]URLHandler{
			"/hooks/whatsapp": function.Webhook("whatsapp", cfg, cl, logFor("webhook-whatsapp")).Handle,
			"/hooks/rcs":      function.Webhook("rcs", cfg, cl, logFor("webhook-rcs")).Handle,
			"/hooks/sms":      function.Webhook("sms", cfg, cl, logFor("webhook-sms")).Handle,
		},
	}
	st.server = &http.Server{Handler: gw, ReadHeaderTimeout: 5 * time.Second}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		if err := st.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logFor("devstack").Error("gateway stopped", "err", err)
		}
	}()
}

// Stop ends the sources, the gateway, the fakes and the moto server it
// started, and waits for them.
func (st *Stack) Stop() {
	if st == nil {
		return
	}
	if st.cancel != nil {
		st.cancel()
	}
	if st.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = st.server.Shutdown(ctx)
		cancel()
	}
	st.wg.Wait()
	if st.Fakes != nil {
		st.Fakes.Close()
	}
	st.moto.Stop()
}

// StopExecutions stops every running execution of the stack's state
// machine, so a stopped stack leaves no timers behind in moto.
func (st *Stack) StopExecutions(ctx context.Context) {
	p := sfn.NewListExecutionsPaginator(st.Clients.SFN, &sfn.ListExecutionsInput{
		StateMachineArn: aws.String(st.SFNArn), StatusFilter: "RUNNING",
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, e := range page.Executions {
			_, _ = st.Clients.SFN.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: e.ExecutionArn})
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

func firstInt(a, b int64) int64 {
	if a != 0 {
		return a
	}
	return b
}
