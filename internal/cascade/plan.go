package cascade

import (
	"errors"
	"fmt"

	"github.com/cascade-oss/cascade/internal/campaign"
)

// ErrPlan means a campaign's channels, mode and retry policy make no
// plan the state machine can walk. Plan wraps it with the reason.
var ErrPlan = errors.New("invalid cascade plan")

// Plan expands a campaign's channels into the steps of one execution,
// so that the state machine treats both modes alike. Each of channels
// gives a channel and its timeout; their DelaySeconds are ignored.
//
// In fallback mode the steps are the channels in order, and retries
// must be zero. In retries mode there is one channel, tried 1+retries
// times, and every step after the first waits intervalSeconds.
func Plan(mode campaign.Mode, channels []Step, retries, intervalSeconds int) (
	[]Step, error,
) {
	if err := checkChannels(channels); err != nil {
		return nil, err
	}
	switch mode {
	case campaign.Fallback:
		return fallbackPlan(channels, retries)
	case campaign.Retries:
		return retriesPlan(channels, retries, intervalSeconds)
	}
	return nil, fmt.Errorf("%w: unknown mode %q", ErrPlan, mode)
}

func fallbackPlan(channels []Step, retries int) ([]Step, error) {
	if retries != 0 {
		return nil, fmt.Errorf("%w: fallback mode with %d retries", ErrPlan, retries)
	}
	steps := make([]Step, len(channels))
	for i, c := range channels {
		steps[i] = Step{Channel: c.Channel, TimeoutSeconds: c.TimeoutSeconds}
	}
	return steps, nil
}

func retriesPlan(channels []Step, retries, interval int) ([]Step, error) {
	switch {
	case len(channels) != 1:
		return nil, fmt.Errorf("%w: retries mode needs one channel, got %d",
			ErrPlan, len(channels))
	case retries < 0 || 1+retries > MaxSteps:
		return nil, fmt.Errorf("%w: %d retries, want 0 to %d",
			ErrPlan, retries, MaxSteps-1)
	case interval < 0:
		return nil, fmt.Errorf("%w: negative interval %d", ErrPlan, interval)
	}
	steps := make([]Step, 1+retries)
	for i := range steps {
		steps[i] = Step{
			Channel:        channels[0].Channel,
			TimeoutSeconds: channels[0].TimeoutSeconds,
		}
		if i > 0 {
			steps[i].DelaySeconds = interval
		}
	}
	return steps, nil
}

func checkChannels(channels []Step) error {
	if len(channels) == 0 || len(channels) > MaxSteps {
		return fmt.Errorf("%w: %d channels, want 1 to %d",
			ErrPlan, len(channels), MaxSteps)
	}
	for i, c := range channels {
		if !c.Channel.Valid() {
			return fmt.Errorf("%w: step %d: unknown channel %q", ErrPlan, i, c.Channel)
		}
		if c.TimeoutSeconds <= 0 {
			return fmt.Errorf("%w: step %d: timeout %d s, want more than 0",
				ErrPlan, i, c.TimeoutSeconds)
		}
	}
	return nil
}
