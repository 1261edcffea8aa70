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
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/fanout"
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
	// Fan-out reads whatever key the campaign names, so a key outside
	// this tenant's uploads would read another tenant's audience.
	if k := c.Audience.S3Key; k != "" && !ownUpload(tenant, k) {
		return events.APIGatewayV2HTTPResponse{}, invalid([]Problem{{"audience.s3Key",
			"must be one of this tenant's upload keys, uploads/" + tenant + "/<campaign id>.csv"}})
	}
	if err := fitsItem(c); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := a.store.PutCampaign(ctx, c); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	a.log.InfoContext(ctx, "campaign created", "campaign", c.ID, "tenant", tenant)
	if body.Launch {
		if err := a.start(ctx, &c); err != nil {
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
	// The state first: a cancelled campaign's missing audience is not
	// what stops it from launching.
	if c.State != campaign.Draft {
		return events.APIGatewayV2HTTPResponse{}, errNotDraft
	}
	if err := validate(&c, true); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := a.start(ctx, &c); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	c.State = campaign.Launching
	return ok(http.StatusAccepted, view(c))
}

// start moves a draft to launching and hands it to fan-out. Launching
// twice is a 409, so an audience is never fanned out twice.
func (a *API) start(ctx context.Context, c *campaign.Campaign) error {
	if err := a.seal(ctx, c); err != nil {
		return err
	}
	tenant, id := c.Tenant, c.ID
	err := a.store.SetCampaignState(ctx, tenant, id, campaign.Launching, campaign.Draft)
	if errors.Is(err, dynamo.ErrConflict) {
		return errNotDraft
	}
	if err != nil {
		return err
	}
	return a.launcher.Launch(ctx, tenant, id)
}

func (a *API) cancel(ctx context.Context, tenant, id string) (events.APIGatewayV2HTTPResponse, error) {
	c, err := a.store.Campaign(ctx, tenant, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	// A campaign whose every journey has ended has nothing left to
	// stop; relabelling it cancelled would misreport what happened.
	if c.State == campaign.Running {
		counters, err := a.store.Counters(ctx, id)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		if stats.From(id, string(c.State), counters).State == string(campaign.Completed) {
			return events.APIGatewayV2HTTPResponse{}, &Error{Status: http.StatusConflict, Message: "state: campaign already completed"}
		}
	}
	err = a.store.SetCampaignState(ctx, tenant, id, campaign.Cancelled,
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
	key := uploadKey(tenant, id)
	url, err := a.uploads.UploadURL(ctx, key, a.cfg.UploadTTL)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := a.store.SetAudienceKey(ctx, tenant, id, key); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return ok(http.StatusOK, map[string]any{
		"url": url, "method": http.MethodPut, "s3Key": key,
		"headers":   map[string]string{"Content-Type": UploadContentType},
		"expiresAt": a.now().Add(a.cfg.UploadTTL).UTC().Format("2006-01-02T15:04:05Z"),
	})
}

// MaxStored is the largest campaign document the table takes: a
// DynamoDB item holds 400 KB, less room for the item's other
// attributes.
const MaxStored = 400<<10 - 4<<10

// fitsItem refuses a campaign too large to store as one item. A valid
// inline audience can pass MaxBody and campaign.MaxRecipients and still
// not fit; without this it was a 500 from PutItem.
// TODO(cascade): keep large inline audiences outside the campaign item
// (as an uploaded CSV), so campaign.MaxRecipients rows always fit.
func fitsItem(c campaign.Campaign) error {
	doc, err := json.Marshal(c)
	if err != nil || len(doc) <= MaxStored {
		return err
	}
	p := Problem{"audience.recipients", fmt.Sprintf(
		"%d rows are too large to store inline; upload a CSV", len(c.Audience.Recipients))}
	e := invalid([]Problem{p})
	e.Status = http.StatusRequestEntityTooLarge
	return e
}

// seal copies an uploaded audience to a key no upload link can write
// and points the campaign at the copy. Fan-out reads the file a chunk
// at a time for minutes; without the copy, a PUT through a link issued
// before launch would swap the audience halfway and message people the
// campaign never meant. The copy's first bytes are checked here so
// that a missing or empty file is a 400 now, not a fan-out that
// retries a broken chunk forever.
func (a *API) seal(ctx context.Context, c *campaign.Campaign) error {
	if c.Audience.S3Key == "" {
		return nil
	}
	sealed := sealedKey(c.Tenant, c.ID)
	head, err := a.uploads.Seal(ctx, c.Audience.S3Key, sealed, audienceHeadBytes)
	if errors.Is(err, ErrNoUpload) {
		return invalid([]Problem{{"audience.s3Key", "no file has been uploaded to " + c.Audience.S3Key}})
	}
	if err != nil {
		return err
	}
	if err := fanout.CheckHead(head); err != nil {
		return invalid([]Problem{{"audience.s3Key", err.Error()}})
	}
	err = a.store.SetAudienceKey(ctx, c.Tenant, c.ID, sealed)
	if errors.Is(err, dynamo.ErrConflict) {
		return errNotDraft
	}
	if err != nil {
		return err
	}
	c.Audience.S3Key = sealed
	return nil
}

// errNotDraft answers a launch of a campaign that is no longer a draft.
var errNotDraft = &Error{Status: http.StatusConflict, Message: "state: campaign was already launched or cancelled"}

// audienceHeadBytes is how much of an audience file launch reads to
// check it: the header row and the first data row.
const audienceHeadBytes = 64 << 10

// sealedKey is where a launched campaign's audience is kept.
func sealedKey(tenant, id string) string {
	return fmt.Sprintf("audiences/%s/%s.csv", tenant, id)
}

// uploadKey is where a campaign's uploaded audience lives.
func uploadKey(tenant, id string) string {
	return fmt.Sprintf("uploads/%s/%s.csv", tenant, id)
}

// ownUpload reports whether key is an upload key of tenant's.
func ownUpload(tenant, key string) bool {
	rest, ok := strings.CutPrefix(key, "uploads/"+tenant+"/")
	id, csv := strings.CutSuffix(rest, ".csv")
	return ok && csv && ValidID(id)
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
	if ct := header(req.Headers, "content-type"); ct != "" && !isJSON(ct) {
		return &Error{Status: http.StatusUnsupportedMediaType,
			Message: "content-type: send application/json, not " + ct}
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
		// Decode has checked the whole body's syntax before it reports
		// a type, so the walk reaches the offset; "" is the body itself.
		field := pathAt(raw, typ.Offset)
		if field == "" {
			field = "body"
		}
		msg := fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type), typ.Value)
		return invalid([]Problem{{field, msg}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			// A key "" would leave the message without a field.
			return badRequest(`body: unknown field ""`)
		}
		return badRequest("%s: unknown field", name)
	}
	return badRequest("body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// header reads a request header by name in any case: API Gateway
// lower-cases names, but a test or another front door may not.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// isJSON accepts application/json and its +json relatives, with or
// without parameters such as charset. No Content-Type at all is taken
// as JSON, since every body here is.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// jsonKind says in JSON's words what a Go type decodes from, so an
// error never shows a Go type name.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	default:
		return "an object"
	}
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
