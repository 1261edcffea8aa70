// Package campaign holds what a business asks Cascade to send: the
// content per channel, the order channels are tried in, fallback or
// retries, timeouts and the audience; and the rules a campaign must
// satisfy before it may launch.
package campaign

import (
	"time"

	"github.com/cascade-oss/cascade/internal/channel"
)

// Mode says what happens when the first channel fails.
type Mode string

// The two modes. A campaign uses one or the other, never both.
const (
	// Fallback tries the next channel in order.
	Fallback Mode = "fallback"
	// Retries resends on the one channel after an interval.
	Retries Mode = "retries"
)

// State is where a campaign is in its life.
type State string

// Campaign states.
const (
	Draft     State = "draft"
	Launching State = "launching"
	Running   State = "running"
	Cancelled State = "cancelled"
	// Completed is never stored: statistics report it for a running
	// campaign whose fan-out has finished and whose every journey has
	// ended. Late delivery receipts still update its counters.
	Completed State = "completed"
)

// Campaign is one campaign as the API accepts and stores it. JSON names
// are the API's; validation errors name fields by them.
type Campaign struct {
	ID       string    `json:"id,omitempty"`
	Tenant   string    `json:"-"`
	Name     string    `json:"name"`
	Region   string    `json:"region,omitempty"` // ISO 3166 alpha-2; IN by default
	Mode     Mode      `json:"mode,omitempty"`   // fallback by default
	Retry    *Retry    `json:"retry,omitempty"`  // retries mode only
	Channels []Step    `json:"channels"`         // in the order they are tried
	Audience Audience  `json:"audience"`
	State    State     `json:"state,omitempty"`
	Created  time.Time `json:"createdAt,omitempty"`
}

// Retry is the retries-mode policy for the campaign's one channel.
type Retry struct {
	Count           int `json:"count"`           // resends after the first try, 1 to 3
	IntervalSeconds int `json:"intervalSeconds"` // wait before each resend
}

// Step is one channel of the cascade with its content.
type Step struct {
	Channel channel.Channel `json:"channel"`
	// TimeoutSeconds is how long to wait for "delivered" before moving
	// on; zero takes the channel's default.
	TimeoutSeconds int       `json:"timeoutSeconds,omitempty"`
	WhatsApp       *WhatsApp `json:"whatsapp,omitempty"`
	RCS            *RCS      `json:"rcs,omitempty"`
	SMS            *SMS      `json:"sms,omitempty"`
}

// WhatsApp is an approved WhatsApp template and how to fill it.
type WhatsApp struct {
	Template string `json:"template"`
	Language string `json:"language"`
	// Parameters fill the body's {{1}}, {{2}}, … in order. Each is text
	// in which {{column}} is replaced by the recipient's value.
	Parameters []string `json:"parameters,omitempty"`
	// Category is the template's category: utility, marketing or
	// authentication.
	Category string `json:"category,omitempty"`
}

// RCS is an RBM agent message: text, or a standalone rich card, with
// suggested replies or actions.
type RCS struct {
	Text        string       `json:"text,omitempty"`
	Card        *Card        `json:"card,omitempty"`
	Suggestions []Suggestion `json:"suggestions,omitempty"`
	// TrafficType is RBM's messageTrafficType, e.g. TRANSACTION.
	TrafficType string `json:"trafficType,omitempty"`
}

// Card is a standalone rich card.
type Card struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	ImageURL    string `json:"imageUrl,omitempty"`
}

// Suggestion is a suggested reply, or an action when URL or Dial is set.
type Suggestion struct {
	Text         string `json:"text"`
	PostbackData string `json:"postbackData"`
	URL          string `json:"url,omitempty"`
	Dial         string `json:"dial,omitempty"`
}

// SMS is a DLT-registered template sent through MSG91.
type SMS struct {
	Provider string `json:"provider,omitempty"` // msg91 by default
	// TemplateID is the provider's template (MSG91's template_id).
	TemplateID string `json:"templateId"`
	// DLTTemplateID is the content template id registered on DLT.
	DLTTemplateID string `json:"dltTemplateId"`
	// DLTText is the registered text with {#var#} placeholders.
	DLTText string `json:"dltText"`
	// Header is the registered 6-character sender id.
	Header string `json:"header"`
	// PrincipalEntityID is the business's DLT entity id.
	PrincipalEntityID string `json:"principalEntityId"`
	// Variables fill the {#var#} placeholders in order; each is text in
	// which {{column}} is replaced by the recipient's value.
	Variables []string `json:"variables,omitempty"`
	// Category is the DLT category: transactional, service-implicit,
	// service-explicit or promotional.
	Category string `json:"category,omitempty"`
}

// Audience is who receives the campaign: an inline list for small
// audiences, or the S3 key of an uploaded CSV with a header row whose
// first column is the phone number.
type Audience struct {
	Recipients []Row  `json:"recipients,omitempty"`
	S3Key      string `json:"s3Key,omitempty"`
}

// Row is one audience entry: a phone number as typed and the values its
// templates use.
type Row struct {
	Phone string            `json:"phone"`
	Vars  map[string]string `json:"vars,omitempty"`
	// Unreadable says why an uploaded CSV line could not be read; such
	// a row is reported as refused with this reason, never sent.
	Unreadable string `json:"-"`
}
