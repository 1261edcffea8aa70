package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/awstest"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/status"
)

func TestNeutralise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=SUM(A1:A2)", "'=SUM(A1:A2)"},
		{"+919900000001", "'+919900000001"},
		{"-1", "'-1"},
		{"@cmd", "'@cmd"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"plain", "plain"},
		{"", ""},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := Neutralise(tt.in); got != tt.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// fixture fills a campaign on a real table: two recipients, one
// delivered on WhatsApp, one that failed on WhatsApp and was read on
// RCS, and a refused row whose text looks like a formula.
func fixture(t *testing.T) (*dynamo.Store, string) {
	t.Helper()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "report")
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(db, table)
	const c = "c0000000000000000001"
	add := func(phone string, row int) {
		if _, _, err := st.AddRecipient(ctx, dynamo.Recipient{Campaign: c, Phone: phone, Row: row}); err != nil {
			t.Fatal(err)
		}
	}
	attempt := func(phone, ch string, step int, evs ...status.Event) {
		a, _, err := st.RecordAttempt(ctx, dynamo.NewAttempt{Tenant: "t1", Campaign: c,
			Recipient: phone, Channel: ch, Step: step, TaskToken: "tok", At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if _, err := st.ApplyStatus(ctx, a.Key(), ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("+919900000001", 1)
	add("+919900000002", 2)
	attempt("+919900000001", "whatsapp", 0, status.Event{Status: status.Delivered})
	attempt("+919900000002", "whatsapp", 0, status.Event{Status: status.Failed,
		Code: "131026", Class: failure.FallbackNow, Reason: "not on WhatsApp"})
	attempt("+919900000002", "rcs", 1, status.Event{Status: status.Read})
	must(t, st.MarkMovedOn(ctx, dynamo.AttemptKeyOf{Campaign: c, Recipient: "+919900000002", Step: 0}, dynamo.NewAttempt{}))
	must(t, st.SetOutcome(ctx, c, "+919900000001", dynamo.OutcomeDelivered, "whatsapp", "", time.Now()))
	must(t, st.SetOutcome(ctx, c, "+919900000002", dynamo.OutcomeDelivered, "rcs", "", time.Now()))
	must(t, st.AddRejected(ctx, c, 3, "=HYPERLINK(\"x\")", "not a phone number"))
	return st, c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readCSV(t *testing.T, r io.Reader) [][]string {
	t.Helper()
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatalf("report is not valid CSV: %v", err)
	}
	return rows
}

// column returns the named column of every data row.
func column(rows [][]string, name string) []string {
	idx := -1
	for i, h := range rows[0] {
		if h == name {
			idx = i
		}
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[idx])
	}
	return out
}

func TestExportKinds(t *testing.T) {
	st, c := fixture(t)
	tests := []struct {
		kind   Kind
		column string
		want   []string
	}{
		{WhatsApp, "status", []string{"delivered", "failed"}},
		{WhatsApp, "failure_code", []string{"", "131026"}},
		{WhatsApp, "moved_on", []string{"false", "true"}},
		{RCS, "status", []string{"read"}},
		{RCS, "recipient", []string{"'+919900000002"}},
		{SMS, "status", nil},
		{Journey, "outcome", []string{"delivered", "delivered"}},
		{Journey, "reached_on", []string{"whatsapp", "rcs"}},
		{Journey, "steps", []string{"whatsapp:delivered", "whatsapp:failed(131026) > rcs:read"}},
		{Journey, "whatsapp_reason", []string{"", "not on WhatsApp"}},
		{Rejected, "input", []string{`'=HYPERLINK("x")`}},
		{Rejected, "reason", []string{"not a phone number"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+" "+tt.column, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := Export(context.Background(), st, tt.kind, c, NewWriter(&buf))
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			rows := readCSV(t, &buf)
			if n != len(rows)-1 {
				t.Errorf("Export counted %d rows, file has %d", n, len(rows)-1)
			}
			if diff := cmp.Diff(tt.want, column(rows, tt.column)); diff != "" {
				t.Errorf("column %s (-want +got):\n%s", tt.column, diff)
			}
		})
	}
}

// TestExporterUploadsToS3 runs the report-export handler against moto's
// S3 and reads the object back through a presigned link.
func TestExporterUploadsToS3(t *testing.T) {
	ctx := context.Background()
	st, c := fixture(t)
	cfg := awstest.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := awstest.Name(t, "reports")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	job := dynamo.ReportJob{ID: "r0000000000000000001", Tenant: "t1", Campaign: c, Report: "journey"}
	must(t, st.PutReport(ctx, job))

	var logs bytes.Buffer
	ex := NewExporter(st, st, transfermanager.New(s3c), bucket, logging.New(&logs, "report-export"))
	body := fmt.Sprintf(`{"tenant":"t1","campaign":"%s","report":"%s"}`, c, job.ID)
	resp, err := ex.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: body}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want no failures (logs: %s)", resp, err, logs.String())
	}
	got, err := st.Report(ctx, "t1", c, job.ID)
	if err != nil || got.State != dynamo.ReportReady || got.Rows != 2 {
		t.Fatalf("report job = %+v, %v; want ready with 2 rows", got, err)
	}
	if !strings.Contains(got.ObjectKey, c+"-journey-") {
		t.Errorf("object key %q does not name campaign and kind", got.ObjectKey)
	}
	if _, err := st.Report(ctx, "t2", c, job.ID); err == nil {
		t.Error("another tenant read the report job")
	}

	link, err := s3.NewPresignClient(s3c).PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(got.ObjectKey),
	}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET presigned link = %d", res.StatusCode)
	}
	rows := readCSV(t, res.Body)
	if diff := cmp.Diff([]string{"'+919900000001", "'+919900000002"}, column(rows, "recipient")); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}

	// Every kind goes through the same upload and reads back whole.
	up := NewExporter(st, st, transfermanager.New(s3c), bucket, logging.New(&logs, "report-export"))
	for _, kind := range Kinds {
		key := ObjectKey("t1", c, kind, time.Now())
		n, err := up.Upload(ctx, kind, c, key)
		if err != nil {
			t.Fatalf("upload %s: %v", kind, err)
		}
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("read %s back: %v", kind, err)
		}
		rows := readCSV(t, obj.Body)
		obj.Body.Close()
		if len(rows)-1 != n {
			t.Errorf("%s report holds %d rows, export counted %d", kind, len(rows)-1, n)
		}
	}

	// A link names one object and its lifetime; moto does not enforce
	// the expiry (S3 does), so the test checks what the link asks for.
	short, err := s3.NewPresignClient(s3c).PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(got.ObjectKey),
	}, s3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(short.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("X-Amz-Expires") != "900" || u.Path != "/"+bucket+"/"+got.ObjectKey {
		t.Errorf("link = %s, want one object for 900 s", short.URL)
	}
}
