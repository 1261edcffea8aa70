package fanout

import (
	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/phone"
)

// NewInput builds the cascade execution's input for one recipient of a
// validated campaign.
func NewInput(c campaign.Campaign, num phone.Number) (cascade.Input, error) {
	mode := c.Mode
	if mode == "" {
		mode = campaign.Fallback
	}
	chans := make([]cascade.Step, len(c.Channels))
	for i, s := range c.Channels {
		chans[i] = cascade.Step{Channel: s.Channel, TimeoutSeconds: s.Timeout()}
	}
	retries, interval := 0, 0
	if mode == campaign.Retries && c.Retry != nil {
		retries, interval = c.Retry.Count, c.Retry.IntervalSeconds
	}
	steps, err := cascade.Plan(mode, chans, retries, interval)
	if err != nil {
		return cascade.Input{}, err
	}
	return cascade.Input{Tenant: c.Tenant, Campaign: c.ID, Recipient: string(num),
		Mode: mode, Steps: steps}, nil
}
