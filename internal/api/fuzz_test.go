package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cascade-oss/cascade/internal/campaign"
)

// FuzzCampaignBody decodes and validates POST /v1/campaigns bodies as
// the handler does. It never panics; a refusal is a 400 or 413 whose
// message and problems each name a field; an accepted campaign has its
// defaults filled, stays within the limits, and reads back from its
// own JSON to the same campaign, still valid.
func FuzzCampaignBody(f *testing.F) {
	for _, seed := range []string{
		goodCampaign,
		`{"name":"Reminder","mode":"retries","retry":{"count":2,"intervalSeconds":120},"channels":[{"channel":"sms","sms":{"templateId":"t1","dltTemplateId":"1107160000000000001","dltText":"Hi {#var#}","header":"CSCADE","principalEntityId":"1101160000000000001","category":"transactional","variables":["{{name}}"]}}],"audience":{"recipients":[{"phone":"+919900000002"}]}}`,
		`{"name":"Card","channels":[{"channel":"rcs","rcs":{"card":{"title":"{{name}}","imageUrl":"https://example.com/a.png"},"suggestions":[{"text":"Call","postbackData":"c","dial":"+919900000003"}]}}]}`,
		`{"name":"x","launch":true,"channels":[{"channel":"whatsapp","whatsapp":{"template":"t","language":"en","parameters":["{{ name"]}}],"audience":{"s3Key":"uploads/t1/0123456789abcdef0123.csv"}}`,
		`{"name":"","mode":"both","retry":{"count":9},"channels":[{"channel":"fax"}],"audience":{"recipients":[{"phone":"1"}],"s3Key":"k"}}`,
		`{"name":5}`, `{"nmae":"x"}`, `{`, `null`, `[]`, `{} {}`, "",
	} {
		f.Add(seed, false)
	}
	f.Add(`{"name":"Launch","channels":[{"channel":"whatsapp","whatsapp":{"template":"t","language":"en"}}]}`, true)
	if raw, err := os.ReadFile("../../events/demo-campaign.json"); err == nil {
		f.Add(string(raw), true)
	}

	f.Fuzz(func(t *testing.T, body string, launching bool) {
		c, err := decodeCampaign(body, launching)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		checkAccepted(t, c)

		// What was accepted reads back from its own JSON unchanged.
		again, err := json.Marshal(createRequest{Campaign: c, Launch: launching})
		if err != nil {
			t.Fatalf("encode accepted campaign: %v", err)
		}
		c2, err := decodeCampaign(string(again), launching)
		if err != nil {
			t.Fatalf("accepted campaign refused on its own JSON: %v\n%s", err, again)
		}
		if diff := cmp.Diff(c, c2, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("campaign changed through its JSON (-first +second):\n%s", diff)
		}
	})
}

// decodeCampaign is create's decode and validate, without storage.
func decodeCampaign(body string, launching bool) (campaign.Campaign, error) {
	var req createRequest
	if err := decodeBody(events.APIGatewayV2HTTPRequest{Body: body}, &req); err != nil {
		return campaign.Campaign{}, err
	}
	c := req.Campaign
	// The server's own fields are overwritten on create.
	c.ID, c.Tenant, c.State, c.Created = "", "t1", "", time.Time{}
	if err := validate(&c, launching); err != nil {
		return campaign.Campaign{}, err
	}
	return c, nil
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("refusal %v is not an API error", err)
	}
	if ae.Status != http.StatusBadRequest && ae.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("refusal status = %d, want 400 or 413", ae.Status)
	}
	if field, _, ok := strings.Cut(ae.Message, ": "); !ok || field == "" {
		t.Errorf("error %q does not start with a field", ae.Message)
	}
	for _, p := range ae.Problems {
		if p.Field == "" || p.Message == "" || strings.ContainsAny(p.Field, " \t\n") {
			t.Errorf("problem %+v does not name a field and say what is wrong", p)
		}
	}
	if len(ae.Problems) > 0 && !strings.HasPrefix(ae.Message, ae.Problems[0].Field+": ") {
		t.Errorf("error %q does not lead with the first problem %+v", ae.Message, ae.Problems[0])
	}
}

func checkAccepted(t *testing.T, c campaign.Campaign) {
	t.Helper()
	if c.Mode != campaign.Fallback && c.Mode != campaign.Retries {
		t.Errorf("mode = %q after defaults", c.Mode)
	}
	if len(c.Region) != 2 {
		t.Errorf("region = %q after defaults", c.Region)
	}
	if n := len(c.Channels); n < 1 || n > 3 {
		t.Errorf("%d channels accepted, want 1 to 3", n)
	}
	seen := map[string]bool{}
	for i, s := range c.Channels {
		if seen[string(s.Channel)] || !s.Channel.Valid() {
			t.Errorf("channels[%d] = %q accepted", i, s.Channel)
		}
		seen[string(s.Channel)] = true
		if s.TimeoutSeconds < campaign.MinTimeout || s.TimeoutSeconds > campaign.MaxTimeout {
			t.Errorf("channels[%d].timeoutSeconds = %d after defaults", i, s.TimeoutSeconds)
		}
	}
	if c.Mode == campaign.Retries && (c.Retry == nil || c.Retry.Count < 1 || c.Retry.Count > 3) {
		t.Errorf("retries mode accepted with retry %+v", c.Retry)
	}
	if c.Mode == campaign.Fallback && c.Retry != nil {
		t.Errorf("fallback mode accepted with retry %+v", c.Retry)
	}
	if err := c.Validate(); err != nil && (len(c.Audience.Recipients) > 0 || c.Audience.S3Key != "") {
		t.Errorf("accepted campaign with an audience does not validate: %v", err)
	}
}
