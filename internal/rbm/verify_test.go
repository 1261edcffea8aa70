package rbm_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cascade-oss/cascade/internal/rbm"
)

// The reference's test vector (section 2.6).
const (
	vectorData = `{"senderPhoneNumber":"+919900000001","eventType":"DELIVERED",` +
		`"eventId":"MxTEST0001",` +
		`"messageId":"3f2a7c1e-0000-4000-8000-000000000001","sendTime":"2026-01-01T10:00:00.000Z",` +
		`"agentId":"demo_agent@rbm.goog"}`
	vectorSignature = "904b1R0BKinKT3YHzJQTf3pA25dSVjWBHczE50jA+XqgPp6+eqQZ" +
		"mJ6yslc+WSJnYZJocfYRGISZ4GV2ouZN5w=="
)

func TestVerifySignature(t *testing.T) {
	data := []byte(vectorData)
	tests := []struct {
		name   string
		token  string
		data   []byte
		header string
		want   error
	}{
		{"reference vector", clientToken, data, vectorSignature, nil},
		{"without padding", clientToken, data, strings.TrimRight(vectorSignature, "="), nil},
		{"wrong token", "OTHERTOKEN000000", data, vectorSignature, rbm.ErrBadSignature},
		{"data changed", clientToken, append([]byte(vectorData), ' '), vectorSignature,
			rbm.ErrBadSignature},
		{"missing header", clientToken, data, "", rbm.ErrNoSignature},
		{"not base64", clientToken, data, "not*base64", rbm.ErrBadSignature},
		{"truncated", clientToken, data, vectorSignature[:40], rbm.ErrBadSignature},
		{"sha256-sized", clientToken, data, rbm.Sign(clientToken, data)[:44], rbm.ErrBadSignature},
		{"no token configured", "", data, vectorSignature, rbm.ErrNoClientToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rbm.VerifySignature(tt.token, tt.data, tt.header)
			if !errors.Is(got, tt.want) {
				t.Errorf("VerifySignature() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReferenceEnvelopeVerifies checks the signature covers the
// decoded message.data of the reference envelope.
func TestReferenceEnvelopeVerifies(t *testing.T) {
	w, err := rbm.ParseWebhook(readFile(t, "delivered.json"), clientToken)
	if err != nil {
		t.Fatal(err)
	}
	if string(w.Data) != vectorData {
		t.Errorf("decoded data = %s, want the reference's", w.Data)
	}
	if err := w.Verify(clientToken, vectorSignature); err != nil {
		t.Errorf("Verify() = %v, want nil", err)
	}
}

// TestReencodedDataFailsVerification proves the decoded bytes must be
// hashed as they are: data with \u00e9, \/ and a surrogate-pair emoji
// verifies, and the same JSON re-encoded by encoding/json does not.
func TestReencodedDataFailsVerification(t *testing.T) {
	data := []byte(`{"senderPhoneNumber":"+919900000001","text":"caf\u00e9 \ud83d\ude80 \/stop"}`)
	sig := rbm.Sign(clientToken, data)
	if err := rbm.VerifySignature(clientToken, data, sig); err != nil {
		t.Fatalf("raw data: VerifySignature() = %v, want nil", err)
	}
	var v map[string]string
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(v)
	if err := rbm.VerifySignature(clientToken, again, sig); !errors.Is(err, rbm.ErrBadSignature) {
		t.Errorf("re-encoded %s: VerifySignature() = %v, want ErrBadSignature", again, err)
	}
}
