package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/stats"
)

// MaxBody is the largest request body accepted: an inline audience of
// 10,000 rows fits well inside it.
const MaxBody = 4 << 20

// createRequest is the body of POST /v1/campaigns.
type createRequest struct {
	campaign.Campaign
	// Launch starts the campaign right after it is stored.
	Launch bool `json:"launch,omitempty"`
}

func (a *API) create(ctx context.Context, tenant string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var body createRequest
	if err := decodeBody(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	c := body.Campaign
	c.ID, c.Tenant, c.State, c.Created = a.newID(), tenant, campaign.Draft, a.now().UTC()
	if err := validate(&c, body.Launch); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := a.store.PutCampaign(ctx, c); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	a.log.InfoContext(ctx, "campaign created", "campaign", c.ID, "tenant", tenant)
	if body.Launch {
		if err := a.start(ctx, tenant, c.ID); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		c.State = campaign.Launching
	}
	return ok(http.StatusCreated, view(c))
}

func (a *API) get(ctx context.Context, tenant, id string) (events.APIGatewayV2HTTPResponse, error) {
	c, err := a.store.Campaign(ctx, tenant, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return ok(http.StatusOK, view(c))
}

func (a *API) stats(ctx context.Context, tenant, id string) (events.APIGatewayV2HTTPResponse, error) {
	c, err := a.store.Campaign(ctx, tenant, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	counters, err := a.store.Counters(ctx, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return ok(http.StatusOK, stats.From(id, string(c.State), counters))
}

func (a *API) launch(ctx context.Context, tenant, id string) (events.APIGatewayV2HTTPResponse, error) {
	c, err := a.store.Campaign(ctx, tenant, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := validate(&c, true); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := a.start(ctx, tenant, id); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	c.State = campaign.Launching
	return ok(http.StatusAccepted, view(c))
}

// start moves a draft to launching and hands it to fan-out. Launching
// twice is a 409, so an audience is never fanned out twice.
func (a *API) start(ctx context.Context, tenant, id string) error {
	err := a.store.SetCampaignState(ctx, tenant, id, campaign.Launching, campaign.Draft)
	if errors.Is(err, dynamo.ErrConflict) {
		return &Error{Status: http.StatusConflict, Message: "state: campaign was already launched or cancelled"}
	}
	if err != nil {
		return err
	}
	return a.launcher.Launch(ctx, tenant, id)
}

func (a *API) cancel(ctx context.Context, tenant, id string) (events.APIGatewayV2HTTPResponse, error) {
	if _, err := a.store.Campaign(ctx, tenant, id); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	err := a.store.SetCampaignState(ctx, tenant, id, campaign.Cancelled,
		campaign.Draft, campaign.Launching, campaign.Running)
	if errors.Is(err, dynamo.ErrConflict) {
		return events.APIGatewayV2HTTPResponse{}, &Error{Status: http.StatusConflict, Message: "state: campaign already cancelled"}
	}
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return a.get(ctx, tenant, id)
}

// uploadURL signs a PUT for the campaign's audience CSV and points the
// draft campaign at it.
func (a *API) uploadURL(ctx context.Context, tenant, id string) (events.APIGatewayV2HTTPResponse, error) {
	c, err := a.store.Campaign(ctx, tenant, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if c.State != campaign.Draft {
		return events.APIGatewayV2HTTPResponse{}, &Error{Status: http.StatusConflict, Message: "state: audience can change only before launch"}
	}
	key := fmt.Sprintf("uploads/%s/%s.csv", tenant, id)
	url, err := a.uploads.UploadURL(ctx, key, a.cfg.UploadTTL)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := a.store.SetAudienceKey(ctx, tenant, id, key); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return ok(http.StatusOK, map[string]any{
		"url": url, "method": http.MethodPut, "s3Key": key,
		"expiresAt": a.now().Add(a.cfg.UploadTTL).UTC().Format("2006-01-02T15:04:05Z"),
	})
}

// campaignView is a campaign as the API shows it: an inline audience
// is summarised, not echoed back.
type campaignView struct {
	campaign.Campaign
	Audience audienceView `json:"audience"`
}

type audienceView struct {
	Recipients int    `json:"recipients,omitempty"`
	S3Key      string `json:"s3Key,omitempty"`
}

func view(c campaign.Campaign) campaignView {
	return campaignView{Campaign: c, Audience: audienceView{
		Recipients: len(c.Audience.Recipients), S3Key: c.Audience.S3Key,
	}}
}

// decodeBody reads a JSON body strictly: unknown fields and wrong types
// are 400s that name the field.
func decodeBody(req events.APIGatewayV2HTTPRequest, v any) error {
	if len(req.Body) > MaxBody {
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: "body: larger than 4 MiB"}
	}
	raw := []byte(req.Body)
	if req.IsBase64Encoded {
		return badRequest("body: send JSON, not base64")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		if dec.More() {
			return badRequest("body: more than one JSON value")
		}
		return nil
	case errors.Is(err, io.EOF):
		return badRequest("body: required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body: not valid JSON (it ends early)")
	case errors.As(err, &syn):
		return badRequest("body: not valid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return badRequest("%s: want %s", fieldPath(typ), typ.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("%s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return badRequest("body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func fieldPath(e *json.UnmarshalTypeError) string {
	if e.Field == "" {
		return "body"
	}
	return e.Field
}

// NewID returns a new campaign or report id: 20 lower-case hex digits,
// safe in keys, URLs and execution names, and unguessable.
func NewID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an id NewID returns, so a
// path with anything else is a 404 without a table read.
func ValidID(s string) bool {
	if len(s) != 20 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
