package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"

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
}

// channelView is a channel as the API shows it: never its secrets.
type channelView struct {
	Channel    string            `json:"channel"`
	Provider   string            `json:"provider"`
	Settings   map[string]string `json:"settings,omitempty"`
	WebhookURL string            `json:"webhookUrl"`
	Updated    string            `json:"updatedAt"`
}

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
	return events.APIGatewayV2HTTPResponse{}, &Error{Status: http.StatusMethodNotAllowed, Message: "method: use GET or PUT"}
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
		token = randomToken()
		body.Credentials["webhookToken"] = token
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
