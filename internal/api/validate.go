package api

import (
	"github.com/cascade-oss/cascade/internal/campaign"
)

// validate checks a campaign before it is stored or launched. A draft
// that will get its audience from an upload may be stored without one.
func validate(c *campaign.Campaign, launching bool) error {
	// TODO(cascade): call campaign.Validate once it lands.
	var probs []Problem
	if c.Name == "" {
		probs = append(probs, Problem{"name", "required"})
	}
	if len(c.Channels) == 0 {
		probs = append(probs, Problem{"channels", "at least one"})
	}
	if launching && len(c.Audience.Recipients) == 0 && c.Audience.S3Key == "" {
		probs = append(probs, Problem{"audience", "required"})
	}
	if len(probs) > 0 {
		return invalid(probs)
	}
	return nil
}
