package api

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestPathAt decodes real bodies into the API's request type and checks
// that the failing value is named with its array positions.
func TestPathAt(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"top-level field", `{"name": 5}`, "name"},
		{"inside the first step", `{"channels":[{"timeoutSeconds":"x"}]}`, "channels[0].timeoutSeconds"},
		{"third step, after nested objects", `{"channels":[{"channel":"whatsapp","whatsapp":{"template":"t"}},{"channel":"rcs"},{"channel":"sms","timeoutSeconds":true}]}`, "channels[2].timeoutSeconds"},
		{"array inside an array", `{"channels":[{"channel":"rcs","rcs":{"suggestions":[{"text":"a"},{"text":[1]}]}}]}`, "channels[0].rcs.suggestions[1].text"},
		{"audience row", `{"audience":{"recipients":[{"phone":"9900000001"},{"phone":9900000002}]}}`, "audience.recipients[1].phone"},
		{"spaces and escapes in keys before it", "{\"name\" : \"a\\\"b\" ,\n \"mode\": 7}", "mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v createRequest
			err := json.Unmarshal([]byte(tt.body), &v)
			var typ *json.UnmarshalTypeError
			if !errors.As(err, &typ) {
				t.Fatalf("decode = %v, want a type error", err)
			}
			if got := pathAt([]byte(tt.body), typ.Offset); got != tt.want {
				t.Errorf("pathAt = %q, want %q", got, tt.want)
			}
		})
	}
}
