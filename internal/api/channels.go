package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cascade-oss/cascade/internal/channel"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/secrets"
)

// channelRequest is the body of PUT /v1/channels/{channel}.
type channelRequest struct {
	Provider    string            `json:"provider"`
	Settings    map[string]string `json:"settings"`
	Credentials map[string]string `json:"credentials"`
	// RotateWebhookToken asks for a new MSG91 webhook token; without
	// it a PUT keeps the one already pasted in MSG91's console.
	RotateWebhookToken bool `json:"rotateWebhookToken,omitempty"`
}

// channelView is a channel as the API shows it: never its secrets.
type channelView struct {
	Channel    string            `json:"channel"`
	Provider   string            `json:"provider"`
	Settings   map[string]string `json:"settings,omitempty"`
	WebhookURL string            `json:"webhookUrl"`
	Updated    string            `json:"updatedAt"`
}

// maxCredentials bounds a connection's credentials, names and values
// together, well inside a Secrets Manager secret.
const maxCredentials = 32 << 10

// maxCredential bounds one credential's value.
const maxCredential = 4096

// providerSpec says which provider serves a channel and which settings
// and credentials connecting it takes.
type providerSpec struct {
	provider    string
	settings    []string
	credentials []string
}

var specs = map[channel.Channel]providerSpec{
	channel.WhatsApp: {"meta", []string{"phoneNumberId"}, []string{"accessToken", "appSecret", "verifyToken"}},
	channel.RCS:      {"rbm", []string{"agentId"}, []string{"accessToken", "clientToken"}},
	channel.SMS:      {"msg91", nil, []string{"authKey"}},
}

func (a *API) channelRoute(ctx context.Context, tenant, method, name string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ch, err := channel.Parse(name)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, errNotFound
	}
	switch method {
	case http.MethodGet:
		cfg, err := a.store.Channel(ctx, tenant, string(ch))
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return ok(http.StatusOK, a.channelView(cfg, ""))
	case http.MethodPut:
		return a.putChannel(ctx, tenant, ch, req)
	}
	return events.APIGatewayV2HTTPResponse{}, wrongMethod(http.MethodGet + ", " + http.MethodPut)
}

func (a *API) putChannel(ctx context.Context, tenant string, ch channel.Channel, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var body channelRequest
	if err := decodeBody(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	spec := specs[ch]
	var probs []Problem
	if body.Provider == "" {
		body.Provider = spec.provider
	}
	if body.Provider != spec.provider {
		probs = append(probs, Problem{"provider", "must be " + spec.provider})
	}
	// Secrets Manager takes 64 KB a secret; more was a 500.
	size := 0
	// In order, so problems come out the same way every time.
	for _, k := range slices.Sorted(maps.Keys(body.Credentials)) {
		v := body.Credentials[k]
		size += len(k) + len(v)
		// One provider token is a few hundred characters; a longer
		// value is a paste gone wrong, and api/openapi.yaml says so.
		if utf8.RuneCountInString(v) > maxCredential {
			probs = append(probs, Problem{"credentials." + k, fmt.Sprintf("at most %d characters", maxCredential)})
		}
	}
	if size > maxCredentials {
		probs = append(probs, Problem{"credentials", fmt.Sprintf("at most %d bytes in all", maxCredentials)})
	}
	// DynamoDB refuses an empty map key; it was a 500.
	if _, ok := body.Settings[""]; ok {
		probs = append(probs, Problem{"settings", "names must not be empty"})
	}
	for _, k := range spec.settings {
		if body.Settings[k] == "" {
			probs = append(probs, Problem{"settings." + k, "required"})
		}
	}
	for _, k := range spec.credentials {
		if body.Credentials[k] == "" {
			probs = append(probs, Problem{"credentials." + k, "required"})
		}
	}
	if len(probs) > 0 {
		return events.APIGatewayV2HTTPResponse{}, invalid(probs)
	}

	// MSG91 cannot sign its reports, so the webhook URL carries a
	// secret token of ours instead.
	token := ""
	if ch == channel.SMS {
		kept, err := a.webhookToken(ctx, tenant)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		token = kept
		if token == "" || body.RotateWebhookToken {
			token = randomToken()
		}
		body.Credentials["webhookToken"] = token
	} else if body.RotateWebhookToken {
		return events.APIGatewayV2HTTPResponse{}, invalid([]Problem{{"rotateWebhookToken", "only SMS webhooks have a token"}})
	}
	arn, err := a.secrets.Put(ctx, tenant, string(ch), secrets.Values(body.Credentials))
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	cfg := dynamo.ChannelConfig{Tenant: tenant, Channel: string(ch),
		Provider: body.Provider, Settings: body.Settings, SecretARN: arn}
	if err := a.store.PutChannel(ctx, cfg); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	cfg, err = a.store.Channel(ctx, tenant, string(ch))
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return ok(http.StatusOK, a.channelView(cfg, token))
}

// webhookToken is the SMS channel's current webhook token, or "" when
// the channel was never connected.
func (a *API) webhookToken(ctx context.Context, tenant string) (string, error) {
	cfg, err := a.store.Channel(ctx, tenant, string(channel.SMS))
	if errors.Is(err, dynamo.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	v, err := a.secrets.Get(ctx, cfg.SecretARN)
	if err != nil {
		return "", fmt.Errorf("read sms credentials: %w", err)
	}
	return v["webhookToken"], nil
}

// channelView shows the webhook URL the provider must call; for SMS the
// token is shown only in the answer to the PUT that made it.
func (a *API) channelView(cfg dynamo.ChannelConfig, token string) channelView {
	u := a.cfg.WebhookURLs[cfg.Channel]
	if u != "" {
		q := url.Values{"tenant": {cfg.Tenant}}
		if token != "" {
			q.Set("token", token)
		}
		u += "?" + q.Encode()
	}
	return channelView{Channel: cfg.Channel, Provider: cfg.Provider,
		Settings: cfg.Settings, WebhookURL: u, Updated: cfg.Updated}
}

func invalid(p []Problem) *Error {
	msg := "invalid request"
	if len(p) > 0 {
		msg = p[0].Field + ": " + p[0].Message
		if len(p) > 1 {
			msg += " (and more)"
		}
	}
	return &Error{Status: http.StatusBadRequest, Message: msg, Problems: p}
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
