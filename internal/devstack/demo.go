package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/stats"
)

// ConnectChannels connects the tenant's three channels through the API,
// with the fakes' credentials.
func (st *Stack) ConnectChannels(ctx context.Context, c *Client) error {
	bodies := map[string]any{
		"whatsapp": map[string]any{
			"settings":    map[string]string{"phoneNumberId": FakePhoneNumberID},
			"credentials": map[string]string{"accessToken": FakeWhatsAppToken, "appSecret": FakeAppSecret, "verifyToken": FakeVerifyToken},
		},
		"rcs": map[string]any{
			"settings":    map[string]string{"agentId": FakeAgentID},
			"credentials": map[string]string{"accessToken": FakeRBMToken, "clientToken": FakeClientToken},
		},
		"sms": map[string]any{
			"credentials": map[string]string{"authKey": FakeAuthKey},
		},
	}
	for _, ch := range []string{"whatsapp", "rcs", "sms"} {
		var view struct {
			WebhookURL string `json:"webhookUrl"`
		}
		if err := c.Do(ctx, "PUT", "/v1/channels/"+ch, bodies[ch], 200, &view); err != nil {
			return err
		}
		// The fakes call back on the URL the API shows, as a provider
		// configured in its console would.
		st.Fakes.SetWebhook(ch, view.WebhookURL)
	}
	return nil
}

// Launch creates a campaign from a JSON file, uploads the CSV audience
// through a presigned link, and launches it. It returns the campaign id.
func (st *Stack) Launch(ctx context.Context, c *Client, campaignFile string, audience []byte) (string, error) {
	raw, err := os.ReadFile(campaignFile)
	if err != nil {
		return "", fmt.Errorf("read campaign: %w", err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return "", fmt.Errorf("decode %s: %w", campaignFile, err)
	}
	var created campaign.Campaign
	if err := c.Do(ctx, "POST", "/v1/campaigns", body, 201, &created); err != nil {
		return "", err
	}
	var up struct {
		URL string `json:"url"`
	}
	if err := c.Do(ctx, "POST", "/v1/campaigns/"+created.ID+"/audience-upload-url", nil, 200, &up); err != nil {
		return "", err
	}
	if err := Put(ctx, up.URL, "text/csv", audience); err != nil {
		return "", err
	}
	if err := c.Do(ctx, "POST", "/v1/campaigns/"+created.ID+"/launch", nil, 202, nil); err != nil {
		return "", err
	}
	return created.ID, nil
}

// Wait polls the campaign's statistics until every recipient's journey
// has ended, drawing a progress bar on w.
func (st *Stack) Wait(ctx context.Context, c *Client, id string, w io.Writer, limit time.Duration) (stats.Stats, error) {
	deadline := time.Now().Add(limit)
	var s stats.Stats
	for {
		if err := c.Do(ctx, "GET", "/v1/campaigns/"+id+"/stats", nil, 200, &s); err != nil {
			return s, err
		}
		done := s.Reached.Total + s.Unreached.Total
		if w != nil {
			progress(w, done, s.Recipients, s)
		}
		if s.State == string(campaign.Completed) {
			if w != nil {
				fmt.Fprintln(w)
			}
			return s, nil
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("campaign %s not finished after %s: %d of %d journeys ended", id, limit, done, s.Recipients)
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func progress(w io.Writer, done, total int64, s stats.Stats) {
	const width = 40
	filled := 0
	if total > 0 {
		filled = int(done * width / total)
	}
	fmt.Fprintf(w, "\r[%s%s] %d/%d journeys ended  (reached %d, unreached %d)   ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, s.Reached.Total, s.Unreached.Total)
}

// Check verifies the invariants after a campaign ends: the counters
// equal a recount of the items, every recipient has exactly one
// outcome, and each channel's attempts equal the attempts that moved
// on from the channel before it.
func (st *Stack) Check(ctx context.Context, id string, order []string) error {
	return CheckStore(ctx, st.Store, id, order)
}

// CheckStore is Check on any store, so a test that drives the handlers
// against a table of its own checks the same invariants.
func CheckStore(ctx context.Context, store *dynamo.Store, id string, order []string) error {
	var errs []error
	counters, recount, err := settled(ctx, store, id)
	if err != nil {
		return err
	}
	if diff := cmp.Diff(recount, counters); diff != "" {
		errs = append(errs, fmt.Errorf("counters differ from the recount (-recount +counters):\n%s", diff))
	}
	missing := 0
	err = store.Recipients(ctx, id, func(r dynamo.Recipient) error {
		if r.Outcome == "" {
			missing++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if missing > 0 {
		errs = append(errs, fmt.Errorf("%d recipients have no outcome", missing))
	}
	for _, b := range stats.Funnel(order, counters) {
		errs = append(errs, errors.New("funnel: "+b))
	}
	return errors.Join(errs...)
}

// Print writes the unified statistics as tables.
func Print(w io.Writer, s stats.Stats) {
	fmt.Fprintf(w, "\nCampaign %s (%s)\n", s.Campaign, s.State)
	fmt.Fprintf(w, "  recipients %d   rejected rows %d   reached %d %s   unreached %d %s\n\n",
		s.Recipients, s.Rejected, s.Reached.Total, parts(s.Reached.By), s.Unreached.Total, parts(s.Unreached.By))
	fmt.Fprintf(w, "  %-9s %9s %6s %9s %6s %6s %8s %15s %10s %10s\n",
		"channel", "attempted", "sent", "delivered", "read", "failed", "moved on", "after fallback", "p50 ms", "p90 ms")
	for _, c := range s.Channels {
		fmt.Fprintf(w, "  %-9s %9d %6d %9d %6d %6d %8d %15d %10s %10s\n",
			c.Channel, c.Attempted, c.Sent, c.Delivered, c.Read, c.Failed.Total, c.MovedOn,
			c.DeliveredAfterFallback, ms(c.TimeToDelivery.P50), ms(c.TimeToDelivery.P90))
	}
	fmt.Fprintln(w, "\n  failures by reason:")
	for _, c := range s.Channels {
		if c.Failed.Total == 0 {
			continue
		}
		var codes []string
		for _, k := range c.Failed.TopCodes {
			codes = append(codes, fmt.Sprintf("%s×%d", k.Code, k.Count))
		}
		fmt.Fprintf(w, "    %-9s %s   codes: %s\n", c.Channel, parts(c.Failed.ByClass), strings.Join(codes, ", "))
	}
}

func ms(v int64) string {
	switch {
	case v == 0:
		return "-"
	case v < 0:
		return ">1d"
	}
	return fmt.Sprintf("≤%d", v)
}

func parts(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	return "(" + strings.Join(out, ", ") + ")"
}

// Report requests a report and waits until its link is ready.
func (st *Stack) Report(ctx context.Context, c *Client, id, kind string, limit time.Duration) (string, error) {
	var job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		URL    string `json:"url"`
		Rows   int    `json:"rows"`
	}
	if err := c.Do(ctx, "POST", "/v1/campaigns/"+id+"/reports", map[string]string{"kind": kind}, 202, &job); err != nil {
		return "", err
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := c.Do(ctx, "GET", "/v1/campaigns/"+id+"/reports/"+job.ID, nil, 200, &job); err != nil {
			return "", err
		}
		if job.Status == dynamo.ReportReady {
			return job.URL, nil
		}
		if job.Status == dynamo.ReportFailed {
			return "", fmt.Errorf("report %s failed", kind)
		}
		time.Sleep(300 * time.Millisecond)
	}
	return "", fmt.Errorf("report %s not ready after %s", kind, limit)
}

// settled reads the counters between two recounts that agree, so late
// deliveries still arriving cannot make a sound campaign look broken.
func settled(ctx context.Context, store *dynamo.Store, id string) (counters, recount map[string]dynamo.Counters, err error) {
	for try := 0; ; try++ {
		before, err := store.Recount(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		counters, err = store.Counters(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		recount, err = store.Recount(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if cmp.Equal(before, recount) || try == 20 {
			return counters, recount, nil
		}
		time.Sleep(time.Second)
	}
}
