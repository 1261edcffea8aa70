package whatsapp_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"testing"

	"github.com/cascade-oss/cascade/internal/whatsapp"
)

const testSecret = "test_app_secret_123"

// signed returns the header value a correct signer would send.
func signed(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(whatsapp.Sign([]byte(secret), body))
}

func TestVerifySignature(t *testing.T) {
	vector, err := os.ReadFile("testdata/vector.json")
	if err != nil {
		t.Fatal(err)
	}
	escaped := []byte(`{"text":"caf\u00e9"}`)
	raw := []byte(`{"text":"café"}`)
	tests := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   error
	}{
		{"reference vector", testSecret, vector,
			"sha256=2a37cb03ebdb26c48b1159ecb2cc43bc2352aae66b7efe69956832aa68d92de2", nil},
		{"escaped unicode vector", testSecret, escaped,
			"sha256=9cf2f2626fa29e58a1dc6c101c2ec0f8f6c65d7f6424cb2da85fe4a70a7cb98e", nil},
		{"raw utf-8 vector", testSecret, raw,
			"sha256=ad6753b204e560b3315ccfea5b1f699c2ec3a4327d43672b0ae62ef0432c0a9c", nil},
		{"escaped signature on raw body", testSecret, raw,
			"sha256=9cf2f2626fa29e58a1dc6c101c2ec0f8f6c65d7f6424cb2da85fe4a70a7cb98e",
			whatsapp.ErrBadSignature},
		{"upper-case hex", testSecret, vector,
			"sha256=2A37CB03EBDB26C48B1159ECB2CC43BC2352AAE66B7EFE69956832AA68D92DE2", nil},
		{"wrong secret", "other_secret", vector, signed(testSecret, vector),
			whatsapp.ErrBadSignature},
		{"body changed", testSecret, append(vector, ' '), signed(testSecret, vector),
			whatsapp.ErrBadSignature},
		{"missing header", testSecret, vector, "", whatsapp.ErrNoSignature},
		{"sha1 prefix", testSecret, vector,
			"sha1=2a37cb03ebdb26c48b1159ecb2cc43bc2352aae66b7efe69956832aa68d92de2",
			whatsapp.ErrBadSignature},
		{"truncated", testSecret, vector, signed(testSecret, vector)[:40],
			whatsapp.ErrBadSignature},
		{"not hex", testSecret, vector, "sha256=" + string(make([]byte, 64)),
			whatsapp.ErrBadSignature},
		{"no secret configured", "", vector, signed("", vector), whatsapp.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := whatsapp.VerifySignature([]byte(tt.secret), tt.body, tt.header)
			if !errors.Is(got, tt.want) {
				t.Errorf("VerifySignature() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReencodedBodyFailsVerification proves the raw bytes must be
// hashed: a body with \u00e9, \/ and a surrogate-pair emoji verifies
// as received, and the same JSON re-encoded by encoding/json does not.
func TestReencodedBodyFailsVerification(t *testing.T) {
	body := []byte(`{"text":"caf\u00e9 \ud83d\ude80","href":"\/docs\/a<b"}`)
	header := signed(testSecret, body)
	if err := whatsapp.VerifySignature([]byte(testSecret), body, header); err != nil {
		t.Fatalf("raw body: VerifySignature() = %v, want nil", err)
	}

	var v map[string]string
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if got, want := v["text"], "café 🚀"; got != want {
		t.Errorf("decoded text = %q, want %q", got, want)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	err = whatsapp.VerifySignature([]byte(testSecret), again, header)
	if !errors.Is(err, whatsapp.ErrBadSignature) {
		t.Errorf("re-encoded body %s: VerifySignature() = %v, want ErrBadSignature",
			again, err)
	}
}

func TestHandshake(t *testing.T) {
	q := func(mode, token, challenge string) url.Values {
		v := url.Values{}
		for k, s := range map[string]string{"hub.mode": mode,
			"hub.verify_token": token, "hub.challenge": challenge} {
			if s != "" {
				v.Set(k, s)
			}
		}
		return v
	}
	tests := []struct {
		name    string
		query   url.Values
		want    string
		wantErr error
	}{
		{"subscribe echoes challenge", q("subscribe", "vt-fake", "1158201444"), "1158201444", nil},
		{"wrong token", q("subscribe", "vt-other", "1158201444"), "", whatsapp.ErrBadVerifyToken},
		{"missing token", q("subscribe", "", "1158201444"), "", whatsapp.ErrBadVerifyToken},
		{"other mode", q("unsubscribe", "vt-fake", "1158201444"), "", whatsapp.ErrNotHandshake},
		{"no challenge", q("subscribe", "vt-fake", ""), "", whatsapp.ErrNotHandshake},
		{"empty query", url.Values{}, "", whatsapp.ErrNotHandshake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := whatsapp.Handshake(tt.query, "vt-fake")
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Handshake() = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
