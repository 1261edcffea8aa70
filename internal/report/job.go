package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"

	"github.com/cascade-oss/cascade/internal/dynamo"
)

// Message asks the report-export function to build one report.
type Message struct {
	Tenant   string `json:"tenant"`
	Campaign string `json:"campaign"`
	Report   string `json:"report"`
}

// Jobs is what the exporter needs of the report jobs in storage.
type Jobs interface {
	Report(ctx context.Context, tenant, campaign, id string) (dynamo.ReportJob, error)
	FinishReport(ctx context.Context, campaign, id, state, objectKey string, rows int, errText string) error
}

// Uploader stores a stream as an S3 object (multipart when large).
type Uploader interface {
	UploadObject(ctx context.Context, in *transfermanager.UploadObjectInput, opts ...func(*transfermanager.Options)) (*transfermanager.UploadObjectOutput, error)
}

// Exporter handles the report queue (SQS).
type Exporter struct {
	src    Source
	jobs   Jobs
	up     Uploader
	bucket string
	log    *slog.Logger
	now    func() time.Time
}

// NewExporter returns an exporter writing to bucket.
func NewExporter(src Source, jobs Jobs, up Uploader, bucket string, log *slog.Logger) *Exporter {
	return &Exporter{src: src, jobs: jobs, up: up, bucket: bucket, log: log, now: time.Now}
}

// Handle builds each requested report; a failed one is retried.
func (e *Exporter) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		if err := e.one(ctx, m.Body); err != nil {
			e.log.ErrorContext(ctx, "report failed", "messageId", m.MessageId, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (e *Exporter) one(ctx context.Context, body string) error {
	var m Message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		e.log.ErrorContext(ctx, "undecodable report request", "err", err)
		return nil
	}
	j, err := e.jobs.Report(ctx, m.Tenant, m.Campaign, m.Report)
	if err != nil {
		return err
	}
	if j.State == dynamo.ReportReady {
		return nil
	}
	kind, err := ParseKind(j.Report)
	if err != nil {
		return e.jobs.FinishReport(ctx, j.Campaign, j.ID, dynamo.ReportFailed, "", 0, err.Error())
	}
	key := ObjectKey(j.Tenant, j.Campaign, kind, e.now())
	rows, err := e.Upload(ctx, kind, j.Campaign, key)
	if err != nil {
		return err
	}
	e.log.InfoContext(ctx, "report ready", "campaign", j.Campaign, "report", j.ID, "rows", rows)
	return e.jobs.FinishReport(ctx, j.Campaign, j.ID, dynamo.ReportReady, key, rows, "")
}

// Upload streams the report through a pipe into the upload, so no
// more than the upload's parts are ever held in memory.
func (e *Exporter) Upload(ctx context.Context, kind Kind, campaign, key string) (int, error) {
	pr, pw := io.Pipe()
	rows := make(chan int, 1)
	go func() {
		n, err := Export(ctx, e.src, kind, campaign, NewWriter(pw))
		rows <- n
		pw.CloseWithError(err)
	}()
	_, err := e.up.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(e.bucket), Key: aws.String(key), Body: pr,
		ContentType:        aws.String("text/csv; charset=utf-8"),
		ContentDisposition: aws.String(fmt.Sprintf(`attachment; filename="%s"`, FileName(key))),
	})
	pr.CloseWithError(err) // unblocks the writer if the upload gave up
	n := <-rows
	if err != nil {
		return 0, fmt.Errorf("upload report %s: %w", key, err)
	}
	return n, nil
}

// ObjectKey names a report's object: tenant, campaign, kind and time.
func ObjectKey(tenant, campaign string, kind Kind, at time.Time) string {
	return fmt.Sprintf("reports/%s/%s/%s", tenant, campaign, fileName(campaign, kind, at))
}

func fileName(campaign string, kind Kind, at time.Time) string {
	return fmt.Sprintf("cascade-%s-%s-%s.csv", campaign, kind, at.UTC().Format("20060102T150405Z"))
}

// FileName is the last part of an object key.
func FileName(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '/' {
			return key[i+1:]
		}
	}
	return key
}

// Upload parts are S3's smallest (5 MiB) and two go up at a time: a
// report is written once and read rarely, so a flat memory footprint
// (a few parts in flight, whatever the row count) matters more than
// upload speed. At 5 MiB, S3's 10,000-part limit still allows 50 GB.
const (
	uploadPartBytes   = 5 << 20
	uploadConcurrency = 2
)

// NewUploader is the multipart uploader reports are written with.
func NewUploader(c transfermanager.S3APIClient) *transfermanager.Client {
	return transfermanager.New(c, func(o *transfermanager.Options) {
		o.PartSizeBytes = uploadPartBytes
		o.Concurrency = uploadConcurrency
	})
}
