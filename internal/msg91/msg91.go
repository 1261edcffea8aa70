// Package msg91 sends DLT-registered SMS templates through MSG91's v5
// flow API and reads its delivery-report webhooks.
//
// The wire facts come from shared/reference/provider-contracts.md,
// section 3. Where that reference marks a fact unconfirmed, the
// comment at the code that relies on it says what was assumed.
package msg91

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/phone"
)

// Provider is the name classified errors carry.
const Provider = "msg91"

// maxResponse caps how much of an answer is read.
const maxResponse = 1 << 20

// Client sends SMS with one MSG91 auth key.
type Client struct {
	hc      *http.Client
	url     string
	authKey string
}

// New returns a client that posts to baseURL (such as
// https://control.msg91.com) with authKey.
func New(hc *http.Client, baseURL, authKey string) *Client {
	return &Client{
		hc:      hc,
		url:     strings.TrimRight(baseURL, "/") + "/api/v5/flow",
		authKey: authKey,
	}
}

// ErrReservedVar means a template variable is named mobiles, the key
// MSG91 reads the number from.
var ErrReservedVar = errors.New(`variable named "mobiles"`)

// flowRequest is the body of a v5 flow send (reference 3.1). Each
// recipient is a flat object: mobiles plus the template's variables.
type flowRequest struct {
	TemplateID string              `json:"template_id"`
	ShortURL   string              `json:"short_url"`
	Recipients []map[string]string `json:"recipients"`
}

// flowResponse is MSG91's answer. code is sometimes present, as a
// string or a number [3P]; message is the request id on success.
type flowResponse struct {
	Type    string          `json:"type"`
	Message string          `json:"message"`
	Code    json.RawMessage `json:"code"`
}

// Send sends the MSG91 template templateID to one number with its
// variables (names as the template spells them; MSG91 matches them
// case-sensitively) and returns the request id.
//
// The request id is assumed to be the requestId that delivery reports
// quote [U]: both are MSG91's 24-character ids. A {"type":"error"}
// answer is a *failure.Error from failure.MSG91Send; a transport error
// or an answer without that shape is plain. MSG91 documents no
// idempotency key [U], so a retry after a timeout may send twice.
func (c *Client) Send(ctx context.Context, templateID string, to phone.Number,
	vars map[string]string) (string, error) {
	body, err := flowBody(templateID, to, vars)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url,
		bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("build msg91 send: %w", err)
	}
	req.Header.Set("authkey", c.authKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("msg91 send: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", fmt.Errorf("read msg91 answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return readFlowResponse(resp.StatusCode, raw)
}

// flowBody encodes one recipient's send. The number goes without its
// plus, as MSG91 wants; short links stay off so DLT-whitelisted URLs
// are sent as registered.
func flowBody(templateID string, to phone.Number, vars map[string]string) ([]byte, error) {
	r := make(map[string]string, len(vars)+1)
	for k, v := range vars {
		if k == "mobiles" {
			return nil, fmt.Errorf("msg91 send: %w", ErrReservedVar)
		}
		r[k] = v
	}
	r["mobiles"] = to.Digits()
	body, err := json.Marshal(flowRequest{
		TemplateID: templateID,
		ShortURL:   "0",
		Recipients: []map[string]string{r},
	})
	if err != nil {
		return nil, fmt.Errorf("encode msg91 send: %w", err)
	}
	return body, nil
}

// readFlowResponse turns MSG91's answer into a request id or an error.
// Which codes v5 returns is unconfirmed [U]: the legacy ones (207, 301,
// 311, 418) are assumed, and failure.MSG91Send reads any other as a
// config error.
func readFlowResponse(code int, raw []byte) (string, error) {
	var r flowResponse
	jsonErr := json.Unmarshal(raw, &r)
	switch {
	case jsonErr == nil && r.Type == "error":
		c := errorCode(r.Code, code)
		fe := failure.New(Provider, c, failure.MSG91Send(code, c))
		return "", fmt.Errorf("msg91 send: %w", fe)
	case code < 200 || code > 299:
		return "", fmt.Errorf("msg91 send: HTTP %d without an error body", code)
	case jsonErr != nil:
		return "", fmt.Errorf("decode msg91 answer: %w", jsonErr)
	case r.Type != "success" || r.Message == "":
		return "", fmt.Errorf("msg91 send: answer of type %q without a request id", r.Type)
	}
	return r.Message, nil
}

// errorCode reads the body's code, a JSON string or number, and falls
// back to the HTTP status when there is none.
func errorCode(raw json.RawMessage, httpStatus int) string {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil && n != "" {
		return n.String()
	}
	return strconv.Itoa(httpStatus)
}
