package whatsapp_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cascade-oss/cascade/internal/status"
	"github.com/cascade-oss/cascade/internal/whatsapp"
)

// FuzzParseWebhook checks the parser never panics and only returns
// events it can stand behind. The seeds are the reference payloads.
func FuzzParseWebhook(f *testing.F) {
	for _, name := range []string{"vector.json", "two_statuses.json", "mixed.json",
		"page_object.json"} {
		f.Add(readFile(f, name))
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",` +
		`"value":{"statuses":[{"id":"w","status":"failed","timestamp":"1",` +
		`"errors":[{"code":"x"}]}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := whatsapp.ParseWebhook(body)
		if err != nil {
			return
		}
		for _, e := range b.Events {
			if _, perr := status.Parse(string(e.Status)); perr != nil || e.ProviderID == "" {
				t.Errorf("event %+v has no id or an unknown status", e)
			}
			if e.Status == status.Failed && e.Class == "" {
				t.Errorf("failed event %+v has no class", e)
			}
		}
		for _, p := range b.Parked {
			if p.Reason == "" {
				t.Errorf("parked part without a reason: %s", p.Raw)
			}
		}
	})
}

// FuzzFastPathAgrees checks the hand-written fast path gives exactly
// the general path's answer whenever it answers at all.
func FuzzFastPathAgrees(f *testing.F) {
	for _, name := range []string{"vector.json", "two_statuses.json", "mixed.json"} {
		f.Add(readFile(f, name))
	}
	f.Add(statusBody(3))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",` +
		`"value":{"statuses":[{"id":"w\/1","status":"failed","timestamp":"1","ID":"x",` +
		`"errors":[{"code":"131026"},{"code":1}],"pricing":{"billable":false}}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := whatsapp.ParseFast(body)
		if !ok {
			return
		}
		general, err := whatsapp.ParseGeneral(body)
		if err != nil {
			t.Fatalf("fast path answered a body the general path refuses: %v", err)
		}
		if diff := cmp.Diff(general, fast, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("paths disagree on %s (-general +fast):\n%s", body, diff)
		}
	})
}
