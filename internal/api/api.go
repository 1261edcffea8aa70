// Package api is Cascade's HTTP API behind API Gateway (HTTP API,
// payload version 2). The tenant comes from the JWT authorizer's claims;
// every read and write is scoped to it, so another tenant's campaign is
// a 404 exactly like one that does not exist. Bad input is a 400 whose
// message names the field; nothing internal reaches a 5xx body.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/secrets"
)

// Store is what the API needs from storage.
type Store interface {
	PutCampaign(ctx context.Context, c campaign.Campaign) error
	Campaign(ctx context.Context, tenant, id string) (campaign.Campaign, error)
	SetCampaignState(ctx context.Context, tenant, id string, to campaign.State, from ...campaign.State) error
	SetAudienceKey(ctx context.Context, tenant, id, key string) error
	PutChannel(ctx context.Context, c dynamo.ChannelConfig) error
	Channel(ctx context.Context, tenant, ch string) (dynamo.ChannelConfig, error)
	Counters(ctx context.Context, campaign string) (map[string]dynamo.Counters, error)
}

// Secrets writes provider credentials.
type Secrets interface {
	Put(ctx context.Context, tenant, channel string, v secrets.Values) (string, error)
	Get(ctx context.Context, arn string) (secrets.Values, error)
}

// Launcher hands a campaign to fan-out.
type Launcher interface {
	Launch(ctx context.Context, tenant, campaignID string) error
}

// Uploads signs audience upload links.
type Uploads interface {
	UploadURL(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Seal copies the object at from to to and returns up to n of
	// the copy's first bytes; ErrNoUpload if from does not exist.
	Seal(ctx context.Context, from, to string, n int64) ([]byte, error)
}

// ErrNoUpload says an audience file was never uploaded.
var ErrNoUpload = errors.New("no such upload")

// Config holds what the API shows or signs.
type Config struct {
	// WebhookURLs maps a channel to its webhook function URL.
	WebhookURLs map[string]string
	// UploadTTL is how long an audience upload link lasts.
	UploadTTL time.Duration
}

// API serves the routes.
type API struct {
	cfg      Config
	store    Store
	secrets  Secrets
	launcher Launcher
	uploads  Uploads
	reports  Reports
	log      *slog.Logger
	newID    func() string
	now      func() time.Time
}

// New returns the API.
func New(cfg Config, st Store, sec Secrets, l Launcher, u Uploads, r Reports, log *slog.Logger) *API {
	if cfg.UploadTTL == 0 {
		cfg.UploadTTL = 15 * time.Minute
	}
	return &API{cfg: cfg, store: st, secrets: sec, launcher: l, uploads: u,
		reports: r, log: log, newID: NewID, now: time.Now}
}

// Error is an API error with its HTTP status and, for bad input, the
// problems by field.
type Error struct {
	Status   int       `json:"-"`
	Message  string    `json:"error"`
	Problems []Problem `json:"problems,omitempty"`
	// Allow lists the methods a route takes, for a 405's Allow header.
	Allow string `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// Problem is one bad field of a request body.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func badRequest(format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, a...)}
}

var errNotFound = &Error{Status: http.StatusNotFound, Message: "not found"}

// Handle routes one request. It always returns a nil error; every
// outcome is an HTTP response.
func (a *API) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	tenant := Tenant(req)
	if tenant == "" {
		return respond(http.StatusUnauthorized, &Error{Message: "token: no tenant claim"}), nil
	}
	res, err := a.route(ctx, tenant, req)
	if err == nil {
		return res, nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		res := respond(ae.Status, ae)
		if ae.Allow != "" {
			res.Headers["Allow"] = ae.Allow
		}
		return res, nil
	}
	if errors.Is(err, dynamo.ErrNotFound) {
		return respond(http.StatusNotFound, errNotFound), nil
	}
	a.log.ErrorContext(ctx, "request failed", "path", req.RawPath, "err", err)
	return respond(http.StatusInternalServerError, &Error{Message: "internal error"}), nil
}

// Tenant reads the tenant from the JWT authorizer's claims: the
// "tenant" claim, or else the subject.
func Tenant(req events.APIGatewayV2HTTPRequest) string {
	if req.RequestContext.Authorizer == nil || req.RequestContext.Authorizer.JWT == nil {
		return ""
	}
	c := req.RequestContext.Authorizer.JWT.Claims
	if t := c["tenant"]; t != "" {
		return t
	}
	return c["sub"]
}

func (a *API) route(ctx context.Context, tenant string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	method := req.RequestContext.HTTP.Method
	parts := strings.Split(strings.Trim(req.RawPath, "/"), "/")
	if len(parts) < 2 || parts[0] != "v1" {
		return events.APIGatewayV2HTTPResponse{}, errNotFound
	}
	switch {
	case parts[1] == "channels" && len(parts) == 3:
		return a.channelRoute(ctx, tenant, method, parts[2], req)
	case parts[1] == "campaigns" && len(parts) == 2 && method == http.MethodPost:
		return a.create(ctx, tenant, req)
	case parts[1] == "campaigns" && len(parts) == 2:
		return events.APIGatewayV2HTTPResponse{}, wrongMethod(http.MethodPost)
	case parts[1] == "campaigns" && len(parts) >= 3:
		return a.campaignRoute(ctx, tenant, method, parts[2:], req)
	}
	return events.APIGatewayV2HTTPResponse{}, errNotFound
}

// wrongMethod answers a route that exists with a method it does not
// take. The route's shape is public, so saying so leaks nothing.
func wrongMethod(allowed string) *Error {
	return &Error{Status: http.StatusMethodNotAllowed, Message: "method: use " + allowed, Allow: allowed}
}

// campaignMethods is the one method each campaign sub-route takes; a
// report's own route, reports/{reportId}, takes GET.
var campaignMethods = map[string]string{
	"": http.MethodGet, "stats": http.MethodGet, "launch": http.MethodPost, "cancel": http.MethodPost,
	"audience-upload-url": http.MethodPost, "reports": http.MethodPost,
}

func (a *API) campaignRoute(ctx context.Context, tenant, method string, p []string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	id := p[0]
	if !ValidID(id) {
		return events.APIGatewayV2HTTPResponse{}, errNotFound
	}
	if len(p) == 3 && p[1] == "reports" {
		if method != http.MethodGet {
			return events.APIGatewayV2HTTPResponse{}, wrongMethod(http.MethodGet)
		}
		return a.getReport(ctx, tenant, id, p[2])
	}
	sub := strings.Join(p[1:], "/")
	want, ok := campaignMethods[sub]
	if !ok {
		return events.APIGatewayV2HTTPResponse{}, errNotFound
	}
	if method != want {
		return events.APIGatewayV2HTTPResponse{}, wrongMethod(want)
	}
	switch sub {
	case "stats":
		return a.stats(ctx, tenant, id)
	case "launch":
		return a.launch(ctx, tenant, id)
	case "cancel":
		return a.cancel(ctx, tenant, id)
	case "audience-upload-url":
		return a.uploadURL(ctx, tenant, id)
	case "reports":
		return a.requestReport(ctx, tenant, id, req)
	}
	return a.get(ctx, tenant, id)
}

func respond(code int, body any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(body)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: code,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

func ok(code int, body any) (events.APIGatewayV2HTTPResponse, error) {
	return respond(code, body), nil
}
