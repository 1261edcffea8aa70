package rbm_test

import (
	"testing"

	"github.com/cascade-oss/cascade/internal/rbm"
	"github.com/cascade-oss/cascade/internal/status"
)

// FuzzParseWebhook checks the parser never panics and returns at most
// one thing per push. The seeds are the reference payloads.
func FuzzParseWebhook(f *testing.F) {
	for _, name := range []string{"delivered.json", "handshake.json", "expired.json",
		"unsubscribe.json", "stop.json"} {
		f.Add(readFile(f, name))
	}
	f.Add(push(`{"senderPhoneNumber":"+919900000001","eventType":"READ",` +
		`"messageId":"m","sendTime":"x"}`))
	f.Add([]byte(`{"clientToken":null,"message":{"data":"e30="}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := rbm.ParseWebhook(body, clientToken)
		if err != nil {
			return
		}
		if n := len(w.Events) + len(w.Notices); w.Secret == "" && n != 1 || w.Secret != "" && n != 0 {
			t.Errorf("push gave %d events and notices, secret %q", n, w.Secret)
		}
		for _, e := range w.Events {
			if _, perr := status.Parse(string(e.Status)); perr != nil || e.AttemptID == "" || e.At.IsZero() {
				t.Errorf("event %+v lacks a status, id or time", e)
			}
		}
	})
}
