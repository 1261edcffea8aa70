package msg91_test

import (
	"testing"

	"github.com/cascade-oss/cascade/internal/msg91"
	"github.com/cascade-oss/cascade/internal/status"
)

// FuzzParseReport checks the parser never panics and every event it
// returns can be matched and applied. Seeds are the reference's v2,
// v3 and v4 reports.
func FuzzParseReport(f *testing.F) {
	f.Add(form, readFile(f, "v2.form"))
	f.Add("application/json", readFile(f, "v2.json"))
	f.Add("application/json", readFile(f, "v3.json"))
	f.Add("application/json", readFile(f, "v4.json"))
	f.Add("application/json", []byte(`{"data":"[{\"requestId\":\"r\",\"report\":[{\"status\":1}]}]"}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		evs, err := msg91.ParseReport(contentType, body)
		if err != nil {
			return
		}
		for _, e := range evs {
			if e.ProviderID == "" {
				t.Errorf("event %+v has no request id", e)
			}
			if e.Status != status.Delivered && (e.Status != status.Failed || e.Class == "") {
				t.Errorf("event %+v is neither delivered nor a classified failure", e)
			}
		}
	})
}
