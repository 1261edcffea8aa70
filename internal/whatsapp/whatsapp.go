// Package whatsapp sends template messages through Meta's WhatsApp
// Cloud API and reads its webhooks: the GET verification handshake,
// the X-Hub-Signature-256 check and the status payloads.
//
// The wire facts come from shared/reference/provider-contracts.md,
// section 1. Where that reference marks a fact unconfirmed, the
// comment at the code that relies on it says what was assumed.
package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/phone"
)

// Provider is the name classified errors carry.
const Provider = "whatsapp"

// maxResponse caps how much of a send response is read. Graph answers
// are a few hundred bytes; anything near this is not a Graph answer.
const maxResponse = 1 << 20

// Client sends template messages for one business phone number.
type Client struct {
	hc    *http.Client
	url   string
	token string
}

// New returns a client that posts to baseURL (such as
// https://graph.facebook.com) with API version (such as v25.0) for
// the business phone number id phoneNumberID, authenticated by token.
func New(hc *http.Client, baseURL, version, phoneNumberID, token string) *Client {
	u := strings.TrimRight(baseURL, "/") + "/" + url.PathEscape(version) +
		"/" + url.PathEscape(phoneNumberID) + "/messages"
	return &Client{hc: hc, url: u, token: token}
}

// Message is one template message to one person.
type Message struct {
	To       phone.Number
	Template string
	Language string
	// Params fill the template body's {{1}}, {{2}}, … in order.
	Params []string
	// CallbackData is our attempt id. It goes out as
	// biz_opaque_callback_data and every status webhook echoes it.
	CallbackData string
}

// sendRequest is the JSON body of a template send (reference 1.2).
type sendRequest struct {
	Product       string       `json:"messaging_product"`
	RecipientType string       `json:"recipient_type"`
	To            string       `json:"to"`
	Type          string       `json:"type"`
	Template      templateBody `json:"template"`
	CallbackData  string       `json:"biz_opaque_callback_data,omitempty"`
}

type templateBody struct {
	Name       string      `json:"name"`
	Language   language    `json:"language"`
	Components []component `json:"components,omitempty"`
}

type language struct {
	Code   string `json:"code"`
	Policy string `json:"policy"`
}

type component struct {
	Type       string      `json:"type"`
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// sendResponse holds the fields of a send answer that matter: the
// wamid on success, the Graph error envelope on failure.
type sendResponse struct {
	Messages []struct {
		ID     string `json:"id"`
		Status string `json:"message_status"`
	} `json:"messages"`
	Error *graphError `json:"error"`
}

// graphError is the Graph API error envelope's inner object
// (reference 1.4). Only code is branched on, as Meta asks.
type graphError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    *int   `json:"code"`
	Data    struct {
		Details string `json:"details"`
	} `json:"error_data"`
	TraceID string `json:"fbtrace_id"`
}

// Send posts m and returns the wamid Meta assigned. A refusal in a
// Graph error envelope is a *failure.Error classified by its code,
// whatever the HTTP status: Meta says not to branch on the status, and
// which status goes with which code is unconfirmed [U]. A transport
// error, or an answer without an envelope (such as a bare 5xx), is
// returned as a plain error, which callers treat as Retry.
//
// No idempotency key for sends was found [U], so a retry after a
// timeout may deliver twice; callers decide whether to risk it.
func (c *Client) Send(ctx context.Context, m Message) (string, error) {
	body, err := json.Marshal(newSendRequest(m))
	if err != nil {
		return "", fmt.Errorf("encode whatsapp send: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url,
		bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("build whatsapp send: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")

	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("whatsapp send: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", fmt.Errorf("read whatsapp answer (HTTP %d): %w",
			resp.StatusCode, err)
	}
	return readSendResponse(resp.StatusCode, raw)
}

// newSendRequest builds the wire body for m. The number goes out with
// its plus, as Meta recommends, so Meta never prepends the business
// number's own country code.
func newSendRequest(m Message) sendRequest {
	r := sendRequest{
		Product:       "whatsapp",
		RecipientType: "individual",
		To:            m.To.String(),
		Type:          "template",
		CallbackData:  m.CallbackData,
		Template: templateBody{
			Name: m.Template,
			// The deterministic policy sends in exactly this language
			// or fails, rather than falling back to another one.
			Language: language{Code: m.Language, Policy: "deterministic"},
		},
	}
	if len(m.Params) > 0 {
		ps := make([]parameter, len(m.Params))
		for i, p := range m.Params {
			ps[i] = parameter{Type: "text", Text: p}
		}
		r.Template.Components = []component{{Type: "body", Parameters: ps}}
	}
	return r
}

// ErrNoMessageID means Meta accepted a send but named no message.
var ErrNoMessageID = errors.New("answer carries no message id")

// readSendResponse turns an HTTP status and body into a wamid or an
// error, as Send documents.
func readSendResponse(code int, raw []byte) (string, error) {
	var r sendResponse
	jsonErr := json.Unmarshal(raw, &r)
	if jsonErr == nil && r.Error != nil && r.Error.Code != nil {
		c := *r.Error.Code
		fe := failure.New(Provider, strconv.Itoa(c), failure.WhatsApp(c))
		return "", fmt.Errorf("whatsapp send: %w", fe)
	}
	if code < 200 || code > 299 {
		return "", fmt.Errorf("whatsapp send: HTTP %d without an error body", code)
	}
	if jsonErr != nil {
		return "", fmt.Errorf("decode whatsapp answer: %w", jsonErr)
	}
	if len(r.Messages) == 0 || r.Messages[0].ID == "" {
		return "", fmt.Errorf("whatsapp send: %w", ErrNoMessageID)
	}
	// A message_status of held_for_quality_assessment or paused is
	// still an accepted send: Meta either releases it later or fails
	// it by webhook (132015), so the wamid is returned either way.
	return r.Messages[0].ID, nil
}
