// Package rbm sends RCS messages through Google's RCS Business
// Messaging (RBM) API, revokes the ones not yet delivered, and reads
// RBM's webhooks: the clientToken handshake, the X-Goog-Signature
// check and the Pub/Sub-wrapped events.
//
// The wire facts come from shared/reference/provider-contracts.md,
// section 2. Where that reference marks a fact unconfirmed, the
// comment at the code that relies on it says what was assumed.
package rbm

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
	"time"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/failure"
	"github.com/cascade-oss/cascade/internal/phone"
)

// Provider is the name classified errors carry.
const Provider = "rbm"

// MaxTTL is the longest time to live RBM accepts for a message.
const MaxTTL = 15 * 24 * time.Hour

// maxResponse caps how much of an answer is read.
const maxResponse = 1 << 20

// Client sends and revokes messages for one RBM agent.
type Client struct {
	hc      *http.Client
	base    string
	agentID string
	token   string
}

// New returns a client for the agent agentID that calls baseURL (such
// as https://rcsbusinessmessaging.googleapis.com, or a regional host;
// the list of regions is unconfirmed [U]) with the OAuth bearer token.
//
// TODO(cascade): token is a ready access token; minting and refreshing
// it from the service-account key belongs here once production secrets
// are wired, when the sender holds a token source instead.
func New(hc *http.Client, baseURL, agentID, token string) *Client {
	return &Client{
		hc:      hc,
		base:    strings.TrimRight(baseURL, "/"),
		agentID: agentID,
		token:   token,
	}
}

// Message is an RCS message after the recipient's values were filled
// in: convert a rendered campaign.RCS with rbm.Message(r). Text and
// Card are exclusive; Suggestions go on the card when there is one.
type Message campaign.RCS

// ErrBadTTL means a time to live is negative or over MaxTTL.
var ErrBadTTL = errors.New("ttl must be between 0 and 15 days")

// Send posts m to the number to under our messageID, which must be a
// UUID; a ttl above zero lets RBM revoke the message itself when it
// runs out. RBM ignores a messageID it has seen, so a retry with the
// same id cannot send twice.
//
// An HTTP refusal is a *failure.Error classified by its status (404:
// not RCS-capable; 429 and 5xx: retry); a transport error is plain.
func (c *Client) Send(ctx context.Context, to phone.Number, messageID string,
	m Message, ttl time.Duration) error {
	if !validUUID(messageID) {
		return failure.New(Provider, "messageId",
			failure.Rule{Class: failure.ConfigError, Reason: "message id is not a UUID"})
	}
	if ttl < 0 || ttl > MaxTTL {
		return fmt.Errorf("rbm send %s: %w", messageID, ErrBadTTL)
	}
	body, err := json.Marshal(newAgentMessage(m, ttl))
	if err != nil {
		return fmt.Errorf("encode rbm message: %w", err)
	}

	q := url.Values{"messageId": {messageID}, "agentId": {c.agentID}}
	u := c.phoneURL(to) + "/agentMessages?" + q.Encode()
	code, raw, err := c.do(ctx, http.MethodPost, u, body)
	if err != nil {
		return fmt.Errorf("rbm send %s: %w", messageID, err)
	}
	// A repeated messageId is ignored by RBM; the answer it gets is
	// unconfirmed [U]. A 409 ALREADY_EXISTS, Google's usual answer,
	// means the first send took, so it counts as success.
	if code == http.StatusOK || code == http.StatusConflict {
		return nil
	}
	return fmt.Errorf("rbm send %s: %w", messageID, refusal(code, raw))
}

// Revoke withdraws an undelivered message. revoked is true when RBM
// answers 200 (the message left the person's queue unseen) and false
// with a nil error on 404 (it was already delivered).
//
// Older RBM documentation said 200 comes back whatever happened, so a
// DELIVERED webhook may still follow a revoke; status.Apply lets a
// late delivery win.
func (c *Client) Revoke(ctx context.Context, to phone.Number, messageID string) (bool, error) {
	q := url.Values{"agentId": {c.agentID}}
	u := c.phoneURL(to) + "/agentMessages/" + url.PathEscape(messageID) +
		"?" + q.Encode()
	code, raw, err := c.do(ctx, http.MethodDelete, u, nil)
	switch {
	case err != nil:
		return false, fmt.Errorf("rbm revoke %s: %w", messageID, err)
	case code == http.StatusOK:
		return true, nil
	case code == http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("rbm revoke %s: %w", messageID, refusal(code, raw))
}

// phoneURL is the phones/{E.164} resource; the plus stays literal,
// which RBM and the fake both accept.
func (c *Client) phoneURL(to phone.Number) string {
	return c.base + "/v1/phones/" + url.PathEscape(to.String())
}

// do makes one authenticated call and returns the status and body.
func (c *Client) do(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("read answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, raw, nil
}

// googleError is Google's usual API error body. That RBM uses it is
// unconfirmed [U]; only the HTTP status is branched on, so a body of
// another shape changes nothing but the logged message.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

// refusal classifies a non-200 answer by its HTTP status.
func refusal(code int, raw []byte) error {
	fe := failure.New(Provider, strconv.Itoa(code), failure.RBM(code))
	var g googleError
	if json.Unmarshal(raw, &g) == nil && g.Error.Status != "" {
		return fmt.Errorf("%s: %w", g.Error.Status, fe)
	}
	return fe
}

// validUUID reports whether s is a UUID in its canonical text form
// (8-4-4-4-12 hex digits), which RBM requires of a messageId.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
