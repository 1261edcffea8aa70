package whatsapp_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/cascade-oss/cascade/internal/whatsapp"
)

// statusBody builds a webhook POST of n statuses in Meta's form, with
// pricing on each and an error on every tenth.
func statusBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"100000000000001",` +
		`"changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":` +
		`"919900000000","phone_number_id":"200000000000001"},"statuses":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"wamid.HBgMOTE5OTAwMDAwMDAxFQIAERgSRkFLRTAw%08d",`+
			`"status":"delivered",`+
			`"timestamp":"1767225600","recipient_id":"9199%08d","biz_opaque_callback_data":`+
			`"att-01JFAKE%08d","pricing":{"billable":true,"pricing_model":"PMP","type":"regular",`+
			`"category":"utility"}`, i, i, i)
		if i%10 == 9 {
			b.WriteString(`,"errors":[{"code":131026,"title":"Message undeliverable","message":` +
				`"Message undeliverable","error_data":{"details":"Fake."},"href":"\/docs\/errors"}]`)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]},"field":"messages"}]}]}`)
	return []byte(b.String())
}

// BenchmarkVerifyParse verifies and parses one webhook POST; the
// metrics are per status. Target: under 5 µs and 2 KB per status.
func BenchmarkVerifyParse(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("statuses=%d", n), func(b *testing.B) {
			body := statusBody(n)
			header := signed(testSecret, body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			before := allocated()
			for b.Loop() {
				if err := whatsapp.VerifySignature([]byte(testSecret), body, header); err != nil {
					b.Fatal(err)
				}
				batch, err := whatsapp.ParseWebhook(body)
				if err != nil || len(batch.Events) != n {
					b.Fatalf("ParseWebhook() = %d events, %v", len(batch.Events), err)
				}
			}
			reportPerStatus(b, n, allocated()-before)
		})
	}
}

// reportPerStatus adds ns and bytes allocated per status.
func reportPerStatus(b *testing.B, n int, bytes uint64) {
	b.Helper()
	per := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/status")
	b.ReportMetric(float64(bytes)/per, "B/status")
}

// allocated returns the bytes allocated so far by the process.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}
