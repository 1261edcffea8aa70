package fanout

import (
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/phone"
)

// Input is a cascade execution's input: the recipient and the plan of
// steps, already expanded so the state machine treats fallback and
// retries alike.
type Input struct {
	Tenant    string `json:"tenant"`
	Campaign  string `json:"campaign"`
	Recipient string `json:"recipient"`
	Mode      string `json:"mode"`
	Steps     []Step `json:"steps"`
}

// Step is one channel attempt in the plan.
type Step struct {
	Channel        string `json:"channel"`
	TimeoutSeconds int    `json:"timeoutSeconds"`
	DelaySeconds   int    `json:"delaySeconds"`
}

// NewInput builds the execution input for one recipient: in fallback
// mode one step per channel in order; in retries mode the one channel
// once and then once per retry, each after the interval.
func NewInput(c campaign.Campaign, num phone.Number) Input {
	in := Input{Tenant: c.Tenant, Campaign: c.ID, Recipient: string(num), Mode: string(c.Mode)}
	if in.Mode == "" {
		in.Mode = string(campaign.Fallback)
	}
	for _, s := range c.Channels {
		in.Steps = append(in.Steps, Step{
			Channel:        string(s.Channel),
			TimeoutSeconds: s.Timeout(),
		})
	}
	if c.Mode == campaign.Retries && c.Retry != nil && len(in.Steps) > 0 {
		first := in.Steps[0]
		first.DelaySeconds = c.Retry.IntervalSeconds
		in.Steps = in.Steps[:1]
		for i := 0; i < c.Retry.Count; i++ {
			in.Steps = append(in.Steps, first)
		}
	}
	return in
}
