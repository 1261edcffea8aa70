package status

import (
	"time"

	"github.com/cascade-oss/cascade/internal/failure"
)

// Event is one status report from a provider's webhook, after its
// signature was checked and its body parsed.
type Event struct {
	// AttemptID is our attempt id when the provider echoes it back
	// (WhatsApp's biz_opaque_callback_data, RBM's messageId).
	AttemptID string
	// ProviderID is the provider's own message id (a wamid, an MSG91
	// request id). Events without an AttemptID are matched on it.
	ProviderID string
	// Recipient is the number as the provider reported it, digits with
	// or without a plus; used for logs (masked) and cross-checks.
	Recipient string
	Status    Status
	At        time.Time
	// Code, Class and Reason explain a failure.
	Code   string
	Class  failure.Class
	Reason string
	// Pricing is what the provider said it charges, when it says.
	Pricing *Pricing
}

// Pricing is a provider's billing note on a message, kept for cost
// reports (WhatsApp's pricing object).
type Pricing struct {
	Billable bool   `json:"billable"`
	Model    string `json:"model,omitempty"`
	Category string `json:"category,omitempty"`
	Type     string `json:"type,omitempty"`
}
