package rbm_test

import (
	"testing"

	"github.com/cascade-oss/cascade/internal/rbm"
)

// BenchmarkVerifyParse parses and verifies one push, which carries one
// event: RBM does not batch, so this is the cost per status.
// Target: under 5 µs and 2 KB per status.
//
// TODO(cascade): this measures about 14 µs and 2.5 KB per push, most of
// it encoding/json reading the envelope and the event. The validating
// walker in internal/whatsapp (fast.go, scan.go) would bring it under
// target if moved to a shared package; worth it once RBM volume makes
// parsing show next to a webhook invocation's own cost.
func BenchmarkVerifyParse(b *testing.B) {
	body := readFile(b, "delivered.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := rbm.ParseWebhook(body, clientToken)
		if err != nil || len(w.Events) != 1 {
			b.Fatalf("ParseWebhook() = %+v, %v", w, err)
		}
		if err := w.Verify(clientToken, vectorSignature); err != nil {
			b.Fatal(err)
		}
	}
}
