package function

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/cascade-oss/cascade/internal/dlt"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/msg91"
	"github.com/cascade-oss/cascade/internal/rbm"
	"github.com/cascade-oss/cascade/internal/sender"
	"github.com/cascade-oss/cascade/internal/whatsapp"
)

// whatsAppProvider sends a step's WhatsApp template through the Cloud
// API, with the tenant's phone number id and token.
type whatsAppProvider struct {
	hc      *http.Client
	baseURL string
	version string
}

func (p whatsAppProvider) Send(ctx context.Context, r sender.Request) (string, error) {
	wa := r.Content.WhatsApp
	if wa == nil {
		return "", fmt.Errorf("campaign has no WhatsApp content")
	}
	params, err := wa.Params(r.Vars)
	if err != nil {
		return "", contentError(err)
	}
	c := whatsapp.New(p.hc, p.baseURL, p.version, r.Config.Settings["phoneNumberId"], r.Secret["accessToken"])
	return c.Send(ctx, whatsapp.Message{To: r.To, Template: wa.Template, Language: wa.Language,
		Params: params, CallbackData: r.Attempt.ID})
}

func (whatsAppProvider) ByProviderID() bool { return false }

// rcsProvider sends a step's RCS message through RBM under the
// attempt's id, so a resend is a no-op at Google.
type rcsProvider struct {
	hc      *http.Client
	baseURL string
}

func (p rcsProvider) client(r sender.Request) *rbm.Client {
	return rbm.New(p.hc, p.baseURL, r.Config.Settings["agentId"], r.Secret["accessToken"])
}

func (p rcsProvider) Send(ctx context.Context, r sender.Request) (string, error) {
	if r.Content.RCS == nil {
		return "", fmt.Errorf("campaign has no RCS content")
	}
	msg, err := r.Content.RCS.Render(r.Vars)
	if err != nil {
		return "", contentError(err)
	}
	// RBM expires the message itself a little after the step's timeout,
	// in case our revoke is lost.
	ttl := time.Duration(r.Content.Timeout())*time.Second + time.Minute
	ttl = min(ttl, rbm.MaxTTL)
	if err := p.client(r).Send(ctx, r.To, r.Attempt.ID, rbm.Message(msg), ttl); err != nil {
		return "", err
	}
	return r.Attempt.ID, nil
}

func (rcsProvider) ByProviderID() bool { return false }

// Revoke withdraws an undelivered RCS message.
func (p rcsProvider) Revoke(ctx context.Context, r sender.Request) (bool, error) {
	return p.client(r).Revoke(ctx, r.To, r.Attempt.ID)
}

// smsProvider checks the DLT rules and the promotional window, then
// sends the MSG91 template. Variables go out as VAR1, VAR2, … in the
// order of the template's {#var#} slots.
type smsProvider struct {
	hc      *http.Client
	baseURL string
	now     func() time.Time
}

func (p smsProvider) Send(ctx context.Context, r sender.Request) (string, error) {
	s := r.Content.SMS
	if s == nil {
		return "", fmt.Errorf("campaign has no SMS content")
	}
	values, err := s.Values(r.Vars)
	if err != nil {
		return "", contentError(err)
	}
	if _, err := dlt.Check(*s, values); err != nil {
		return "", contentError(err)
	}
	if ok, next := dlt.Window(s.Category, p.now()); !ok {
		return "", &sender.DeferError{Until: next}
	}
	vars := make(map[string]string, len(values))
	for i, v := range values {
		vars["VAR"+strconv.Itoa(i+1)] = v
	}
	return msg91.New(p.hc, p.baseURL, r.Secret["authKey"]).Send(ctx, s.TemplateID, r.To, vars)
}

func (smsProvider) ByProviderID() bool { return true }

// contentError turns a campaign whose content cannot be rendered for a
// recipient (a missing column, a DLT mismatch) into a config error:
// this channel cannot send it, so the cascade moves on.
func contentError(err error) error {
	return &failure.Error{Class: failure.ConfigError, Code: "content", Reason: err.Error(), Provider: "cascade"}
}

// metric returns a counter that writes one CloudWatch Embedded Metric
// Format record per call through the function's JSON log.
func metric(log *slog.Logger) func(name, channel string) {
	return func(name, channel string) {
		log.Info("metric",
			slog.Any("_aws", map[string]any{
				"Timestamp": time.Now().UnixMilli(),
				"CloudWatchMetrics": []any{map[string]any{
					"Namespace":  "Cascade",
					"Dimensions": [][]string{{"Channel"}},
					"Metrics":    []any{map[string]string{"Name": name, "Unit": "Count"}},
				}},
			}),
			slog.String("Channel", channel), slog.Int(name, 1))
	}
}
