package api

import (
	"errors"
	"strings"

	"github.com/cascade-oss/cascade/internal/campaign"
)

// validate checks a campaign before it is stored or launched and fills
// its defaults. A draft that will get its audience from an upload may
// be stored without one; launching needs it.
func validate(c *campaign.Campaign, launching bool) error {
	c.Defaults()
	err := c.Validate()
	var ps campaign.Problems
	if !errors.As(err, &ps) {
		return err
	}
	var probs []Problem
	for _, p := range ps {
		noAudience := len(c.Audience.Recipients) == 0 && c.Audience.S3Key == ""
		if !launching && noAudience && strings.HasPrefix(p.Field, "audience") {
			continue
		}
		probs = append(probs, Problem{Field: p.Field, Message: p.Message})
	}
	if len(probs) == 0 {
		return nil
	}
	return invalid(probs)
}
