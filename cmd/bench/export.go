package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/moto"
	"github.com/cascade-oss/cascade/internal/report"
	"github.com/cascade-oss/cascade/internal/status"
)

// exportPlan is one export for a child process to run.
type exportPlan struct {
	Source   string `json:"source"` // "in-process" or "dynamodb"
	Kind     string `json:"kind"`
	Attempts int    `json:"attempts"`
	Endpoint string `json:"endpoint"`
	Bucket   string `json:"bucket"`
	Table    string `json:"table,omitempty"`
	Campaign string `json:"campaign"`
}

// exports measures report exports into moto's S3: a million attempts
// from the in-process source as a channel report and as a journey
// report, then storeRecipients recipients from the real store. Each
// runs in a process of its own, so its peak memory is its own.
func exports(ctx context.Context, attempts, storeRecipients int, log io.Writer) ([]results.Export, error) {
	venv, err := moto.FindVenv()
	if err != nil {
		return nil, err
	}
	srv, err := moto.Start(ctx, venv, io.Discard)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	cfg := moto.Config(srv.URL)
	const bucket = "bench-reports"
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	plans := []exportPlan{
		{Source: "in-process", Kind: "sms", Attempts: attempts},
		{Source: "in-process", Kind: "journey", Attempts: attempts},
	}
	if storeRecipients > 0 {
		fmt.Fprintf(log, "export: filling a table with %d recipients\n", storeRecipients)
		table, campaign, err := fillStore(ctx, cfg, storeRecipients)
		if err != nil {
			return nil, err
		}
		for _, k := range []string{"sms", "journey"} {
			plans = append(plans, exportPlan{Source: "dynamodb", Kind: k,
				Attempts: 2 * storeRecipients, Table: table, Campaign: campaign})
		}
	}
	var out []results.Export
	for _, p := range plans {
		p.Endpoint, p.Bucket = srv.URL, bucket
		e := runExportChild(ctx, p)
		fmt.Fprintf(log, "  %-10s %-7s %8d rows  %7.1f s  %9.0f rows/s  peak RSS %5.1f MB  %s\n",
			e.Source, e.Kind, e.Rows, e.Seconds, e.RowsPerS, e.PeakRSSMB, e.Error)
		out = append(out, e)
	}
	return out, nil
}

// runExportChild runs this program again as an export child.
func runExportChild(ctx context.Context, p exportPlan) results.Export {
	e := results.Export{Source: p.Source, Kind: p.Kind, Attempts: p.Attempts}
	self, err := os.Executable()
	if err != nil {
		e.Error = err.Error()
		return e
	}
	plan, _ := json.Marshal(p)
	cmd := exec.CommandContext(ctx, self, "-child-export", string(plan))
	out, err := cmd.Output()
	if err != nil {
		e.Error = fmt.Sprintf("export child: %v: %s", err, tail(stderrOf(err), 400))
		return e
	}
	if err := json.Unmarshal(out, &e); err != nil {
		e.Error = fmt.Sprintf("export child answered %q: %v", tail(string(out), 200), err)
	}
	return e
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// exportChild is the child's whole life: one export, its figures as
// JSON on stdout.
func exportChild(planJSON string) error {
	var p exportPlan
	if err := json.Unmarshal([]byte(planJSON), &p); err != nil {
		return fmt.Errorf("decode plan: %w", err)
	}
	ctx := context.Background()
	cfg := moto.Config(p.Endpoint)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	// The same uploader as the report-export function's.
	up := report.NewUploader(s3c)

	var src report.Source
	e := results.Export{Source: p.Source, Kind: p.Kind, Attempts: p.Attempts}
	switch p.Source {
	case "in-process":
		syn := synthetic{N: p.Attempts, Channels: []string{p.Kind}}
		if p.Kind == string(report.Journey) {
			syn = synthetic{N: p.Attempts / 2, Channels: []string{"whatsapp", "sms"}}
		}
		src, p.Campaign = syn, "c0000000000000000bench"
	default:
		src = dynamo.New(dynamodb.NewFromConfig(cfg), p.Table)
	}
	log := slog.New(slog.DiscardHandler)
	ex := report.NewExporter(src, nil, up, p.Bucket, log)
	key := report.ObjectKey("bench", p.Campaign, report.Kind(p.Kind), time.Now())

	peak := watchHeap()
	start := time.Now()
	rows, err := ex.Upload(ctx, report.Kind(p.Kind), p.Campaign, key)
	e.Seconds = time.Since(start).Seconds()
	e.PeakHeapMB = peak() / (1 << 20)
	e.PeakRSSMB = vmHWM() / 1024
	if err != nil {
		return err
	}
	e.Rows = rows
	e.RowsPerS = float64(rows) / e.Seconds
	e.Bytes, e.Parts = objectShape(ctx, s3c, p.Bucket, key)
	// moto holds objects in memory; the next export needs it more.
	_, _ = s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &p.Bucket, Key: &key})
	return json.NewEncoder(os.Stdout).Encode(e)
}

// objectShape returns an object's size and its multipart part count,
// read from the ETag's -N suffix.
func objectShape(ctx context.Context, s3c *s3.Client, bucket, key string) (int64, int) {
	h, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return 0, 0
	}
	parts := 1
	tag := strings.Trim(aws.ToString(h.ETag), `"`)
	if _, n, ok := strings.Cut(tag, "-"); ok {
		parts, _ = strconv.Atoi(n)
	}
	return aws.ToInt64(h.ContentLength), parts
}

// watchHeap samples the live heap every 10 ms until the returned
// function is called, which gives the largest sample in bytes.
func watchHeap() func() float64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var mu sync.Mutex
	top := 0.0
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			top = max(top, float64(sample[0].Value.Uint64()))
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		return top
	}
}

// vmHWM is the process's peak resident set in KiB, from the kernel.
func vmHWM() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return kb
		}
	}
	return 0
}

// fillStore writes n recipients through the real store, each failed on
// WhatsApp and delivered by SMS, eight at a time.
func fillStore(ctx context.Context, cfg aws.Config, n int) (table, campaign string, err error) {
	db := dynamodb.NewFromConfig(cfg)
	table, campaign = "bench-export", "c00000000000000store"
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		return "", "", err
	}
	st := dynamo.New(db, table)
	jobs := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := fillOne(ctx, st, campaign, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case jobs <- i:
		case err := <-errs:
			close(jobs)
			wg.Wait()
			return "", "", err
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return "", "", err
	default:
	}
	return table, campaign, nil
}

func fillOne(ctx context.Context, st *dynamo.Store, campaign string, i int) error {
	phone := syntheticPhone(nil, i)
	if _, _, err := st.AddRecipient(ctx, dynamo.Recipient{Campaign: campaign, Phone: phone, Row: i + 1}); err != nil {
		return err
	}
	now := time.Now()
	for step, ch := range []string{"whatsapp", "sms"} {
		a, _, err := st.RecordAttempt(ctx, dynamo.NewAttempt{Tenant: "bench", Campaign: campaign,
			Recipient: phone, Channel: ch, Step: step, TaskToken: "tok", At: now})
		if err != nil {
			return err
		}
		ev := status.Event{Status: status.Delivered, At: now}
		if step == 0 {
			ev = status.Event{Status: status.Failed, Code: "131026", Class: failure.FallbackNow,
				Reason: "not on WhatsApp", At: now}
		}
		if _, err := st.ApplyStatus(ctx, a.Key(), ev); err != nil {
			return err
		}
	}
	return st.SetOutcome(ctx, campaign, phone, dynamo.OutcomeDelivered, "sms", "", now)
}
