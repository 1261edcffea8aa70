package report

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/cascade-oss/cascade/internal/dynamo"
)

// Synthetic is an in-process page source of n recipients with one
// WhatsApp and one SMS attempt each, made on the fly so that memory
// measures the export, not the data.
type Synthetic struct{ N int }

// Attempts yields two attempts per recipient, in key order.
func (s Synthetic) Attempts(_ context.Context, c string, fn func(dynamo.Attempt) error) error {
	for i := 0; i < s.N; i++ {
		phone := fmt.Sprintf("+9199%08d", i)
		a := dynamo.Attempt{Campaign: c, Recipient: phone, Channel: "whatsapp", Status: "failed",
			ID: "3f2a7c1e-0000-4000-8000-000000000001", FailClass: "fallback-now", FailCode: "131026",
			FailReason: "not on WhatsApp", MovedOn: true,
			Times: map[string]string{"queued": "2026-12-04T10:00:00.000Z", "failed": "2026-12-04T10:00:01.000Z"}}
		if err := fn(a); err != nil {
			return err
		}
		a.Channel, a.Step, a.Status, a.MovedOn = "sms", 1, "delivered", false
		a.Times = map[string]string{"queued": "2026-12-04T10:00:02.000Z", "delivered": "2026-12-04T10:00:03.000Z"}
		if err := fn(a); err != nil {
			return err
		}
	}
	return nil
}

// Recipients yields the recipients in key order.
func (s Synthetic) Recipients(_ context.Context, c string, fn func(dynamo.Recipient) error) error {
	for i := 0; i < s.N; i++ {
		r := dynamo.Recipient{Campaign: c, Phone: fmt.Sprintf("+9199%08d", i), Row: i + 1,
			Outcome: "delivered", ReachedOn: "sms", EndedAt: "2026-12-04T10:00:03.000Z"}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// RejectedRows yields none.
func (Synthetic) RejectedRows(context.Context, string, func(dynamo.RejectedRow) error) error {
	return nil
}

// BenchmarkExport writes reports of 100,000 rows from the in-process
// source to a discarding writer: the CSV stage alone.
func BenchmarkExport(b *testing.B) {
	for _, kind := range []Kind{SMS, Journey} {
		b.Run(string(kind), func(b *testing.B) {
			src := Synthetic{N: 100_000}
			b.ReportAllocs()
			var rows int
			for i := 0; i < b.N; i++ {
				n, err := Export(context.Background(), src, kind, "c1", NewWriter(io.Discard))
				if err != nil {
					b.Fatal(err)
				}
				rows = n
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(float64(m.HeapSys)/(1<<20), "heapMB")
		})
	}
}
