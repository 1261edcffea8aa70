// Package fanout turns a launched campaign's audience into cascades.
// It handles the fan-out queue (SQS): each message is one chunk of the
// audience, inline or an uploaded CSV in S3 read from a byte offset.
// Every row is normalised to E.164 and deduplicated; refused rows are
// kept with a reason; each valid recipient gets one cascade execution
// whose name is derived from campaign and number, so a redelivered
// chunk starts nothing twice. Each chunk hands the next one on.
package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/phone"
)

// Message is one chunk of a campaign's audience to fan out.
type Message struct {
	Tenant   string `json:"tenant"`
	Campaign string `json:"campaign"`
	// Row is the 1-based audience row the chunk starts at.
	Row int `json:"row"`
	// Offset is the CSV's byte offset of that row (S3 audiences).
	Offset int64 `json:"offset,omitempty"`
	// Header is the CSV's header row, carried to later chunks.
	Header []string `json:"header,omitempty"`
}

// Store is what fan-out needs from storage.
type Store interface {
	Campaign(ctx context.Context, tenant, id string) (campaign.Campaign, error)
	AddRecipient(ctx context.Context, r dynamo.Recipient) (int, bool, error)
	AddRejected(ctx context.Context, campaign string, row int, raw, reason string) error
	ClaimChunk(ctx context.Context, campaign string, row int) (bool, error)
	SetCampaignState(ctx context.Context, tenant, id string, to campaign.State, from ...campaign.State) error
	Counters(ctx context.Context, campaign string) (map[string]dynamo.Counters, error)
}

// SFN starts executions.
type SFN interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Queue sends the next chunk, or puts back one that must wait.
type Queue interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Objects reads uploaded audiences.
type Objects interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Config is what the handler needs to know about its surroundings.
type Config struct {
	StateMachineARN string
	QueueURL        string // the fan-out queue, for the next chunk
	Bucket          string // where uploaded audiences live
	ChunkSize       int    // rows per message; DefaultChunk if zero
	// MaxInFlight caps the campaign's journeys under way: a chunk waits
	// while more have started than ended. Zero means no cap. It keeps
	// start rates inside Step Functions' quota on AWS and inside what
	// the local emulator can run at once.
	MaxInFlight int64
	// Pause is how long a capped chunk waits; 2 s if zero.
	Pause time.Duration
}

// DefaultChunk keeps one chunk well inside a Lambda timeout on moto
// and on AWS.
const DefaultChunk = 200

// Handler fans out audience chunks.
type Handler struct {
	cfg     Config
	store   Store
	sfn     SFN
	queue   Queue
	objects Objects
	log     *slog.Logger
}

// New returns a handler.
func New(cfg Config, st Store, s SFN, q Queue, o Objects, log *slog.Logger) *Handler {
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunk
	}
	return &Handler{cfg: cfg, store: st, sfn: s, queue: q, objects: o, log: log}
}

// Handle processes a batch of chunk messages, reporting failed ones.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		err := h.chunk(ctx, m.Body)
		if errors.Is(err, errBusy) {
			// Put the chunk back as a new, delayed message: a redelivery
			// would count against the queue's redrive limit and send a
			// patient chunk to the dead-letter queue.
			err = h.later(ctx, m.Body)
		}
		if err != nil {
			h.log.ErrorContext(ctx, "chunk failed", "messageId", m.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) chunk(ctx context.Context, body string) error {
	var m Message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return fmt.Errorf("decode chunk: %w", err)
	}
	c, err := h.store.Campaign(ctx, m.Tenant, m.Campaign)
	if err != nil {
		return err
	}
	if c.State == campaign.Cancelled {
		h.log.InfoContext(ctx, "campaign cancelled, chunk dropped", "campaign", c.ID)
		return nil
	}
	if m.Row < 1 {
		m.Row = 1
	}
	if err := h.checkInFlight(ctx, c.ID); err != nil {
		return err
	}

	rows, next, err := h.read(ctx, c, m)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if err := h.row(ctx, c, m.Row+i, r); err != nil {
			return err
		}
	}
	if next == nil {
		// The last chunk: the whole audience has been handed on.
		err := h.store.SetCampaignState(ctx, c.Tenant, c.ID, campaign.Running, campaign.Launching)
		if err != nil && !errors.Is(err, dynamo.ErrConflict) {
			return err
		}
		return nil
	}
	return h.handOn(ctx, *next)
}

// handOn enqueues the next chunk, once.
func (h *Handler) handOn(ctx context.Context, next Message) error {
	first, err := h.store.ClaimChunk(ctx, next.Campaign, next.Row)
	if err != nil || !first {
		return err
	}
	body, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("encode next chunk: %w", err)
	}
	_, err = h.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(h.cfg.QueueURL), MessageBody: aws.String(string(body)),
	})
	if err != nil {
		return fmt.Errorf("enqueue chunk at row %d: %w", next.Row, err)
	}
	return nil
}

// row normalises, deduplicates and starts one audience row.
func (h *Handler) row(ctx context.Context, c campaign.Campaign, n int, r campaign.Row) error {
	if r.Unreadable != "" {
		return h.store.AddRejected(ctx, c.ID, n, "", r.Unreadable)
	}
	num, err := phone.Normalize(r.Phone, c.Region, true)
	if err != nil {
		return h.store.AddRejected(ctx, c.ID, n, r.Phone, err.Error())
	}
	// An inline row's variable without a name fills no template, and
	// DynamoDB refuses an empty map key.
	delete(r.Vars, "")
	dupOf, added, err := h.store.AddRecipient(ctx, dynamo.Recipient{
		Campaign: c.ID, Phone: string(num), Row: n, Vars: r.Vars,
	})
	if err != nil {
		return err
	}
	if !added {
		return h.store.AddRejected(ctx, c.ID, n, r.Phone,
			fmt.Sprintf("duplicate of row %d", dupOf))
	}
	return h.start(ctx, c, num, n)
}

// start begins the recipient's cascade. The name is derived, so a
// repeated start of the same recipient is refused by Step Functions
// and taken as done.
func (h *Handler) start(ctx context.Context, c campaign.Campaign, num phone.Number, row int) error {
	in, err := NewInput(c, num)
	if err != nil {
		return err
	}
	input, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode execution input: %w", err)
	}
	name := ExecutionName(c.ID, row)
	for try := 0; ; try++ {
		_, err = h.sfn.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(h.cfg.StateMachineARN),
			Name:            aws.String(name),
			Input:           aws.String(string(input)),
		})
		var exists *sfntypes.ExecutionAlreadyExists
		var limit *sfntypes.ExecutionLimitExceeded
		switch {
		case err == nil, errors.As(err, &exists):
			return nil
		case errors.As(err, &limit) && try < 5:
			// Throttled starts wait and try again; the SDK's own
			// retries already covered ThrottlingException.
			time.Sleep(time.Duration(100<<try) * time.Millisecond)
			continue
		}
		return fmt.Errorf("start cascade for %s: %w", num.Masked(), err)
	}
}

// ExecutionName is the cascade execution's name for a recipient: the
// campaign id and the recipient's audience row, which deduplication
// makes unique. Never the number: execution names and ARNs show up in
// the state machine's logs, the console and CloudTrail, where a phone
// number must not.
func ExecutionName(campaignID string, row int) string {
	return campaignID + "-r" + strconv.Itoa(row)
}

// errBusy means the campaign has as many journeys under way as it may.
var errBusy = errors.New("too many journeys in flight")

func (h *Handler) checkInFlight(ctx context.Context, id string) error {
	if h.cfg.MaxInFlight <= 0 {
		return nil
	}
	c, err := h.store.Counters(ctx, id)
	if err != nil {
		return err
	}
	all := c[dynamo.Scope]
	if all[dynamo.Recipients]-all[dynamo.Reached]-all[dynamo.Unreached] >= h.cfg.MaxInFlight {
		return errBusy
	}
	return nil
}

// later enqueues a capped chunk again, delayed by the pause.
func (h *Handler) later(ctx context.Context, body string) error {
	wait := h.cfg.Pause
	if wait <= 0 {
		wait = 2 * time.Second
	}
	_, err := h.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(h.cfg.QueueURL), MessageBody: aws.String(body),
		DelaySeconds: int32(min(wait, 15*time.Minute) / time.Second),
	})
	if err != nil {
		return fmt.Errorf("put chunk back: %w", err)
	}
	return nil
}
