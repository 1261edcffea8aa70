// Package stats turns a campaign's counters into the one set of
// statistics everyone reads: per channel attempted, sent, delivered,
// read, failed by class and code, moved on and delivered after
// fallback, with time to delivery; per campaign recipients, reached by
// channel, unreached by reason and rejected rows.
package stats

import (
	"sort"
	"strconv"
	"strings"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/channel"
	"github.com/cascade-oss/cascade/internal/dynamo"
	"github.com/cascade-oss/cascade/internal/status"
)

// Stats is a campaign's unified statistics.
type Stats struct {
	Campaign   string           `json:"campaign"`
	State      string           `json:"state"`
	Recipients int64            `json:"recipients"`
	Rejected   int64            `json:"rejected"`
	Reached    Breakdown        `json:"reached"`
	Unreached  Breakdown        `json:"unreached"`
	InFlight   int64            `json:"inFlight"`
	Channels   []ChannelStats   `json:"channels"`
	Counters   map[string]int64 `json:"-"`
}

// Breakdown is a total with its parts.
type Breakdown struct {
	Total int64            `json:"total"`
	By    map[string]int64 `json:"by"`
}

// ChannelStats is one channel's funnel.
type ChannelStats struct {
	Channel string `json:"channel"`
	// Attempted counts attempts made on the channel.
	Attempted int64 `json:"attempted"`
	// Sent counts attempts the provider accepted.
	Sent      int64  `json:"sent"`
	Delivered int64  `json:"delivered"`
	Read      int64  `json:"read"`
	Failed    Failed `json:"failed"`
	// MovedOn counts attempts after which the cascade tried the next
	// step: failures and timeouts.
	MovedOn int64 `json:"movedOn"`
	// DeliveredAfterFallback counts deliveries that came after the
	// cascade had stopped waiting for them.
	DeliveredAfterFallback int64   `json:"deliveredAfterFallback"`
	TimeToDelivery         Latency `json:"timeToDeliveryMs"`
}

// Failed breaks failures down by class and by the provider's codes.
type Failed struct {
	Total    int64            `json:"total"`
	ByClass  map[string]int64 `json:"byClass"`
	TopCodes []Code           `json:"topCodes"`
}

// Code is one provider error code and how often it was seen.
type Code struct {
	Code  string `json:"code"`
	Count int64  `json:"count"`
}

// Latency gives percentiles of time from attempt to delivery, as the
// upper bound of the counters' bucket they fall in.
type Latency struct {
	P50 int64 `json:"p50"`
	P90 int64 `json:"p90"`
}

// topCodes is how many provider codes a channel lists.
const topCodes = 5

// From builds the statistics from counters read from the store.
func From(id, state string, c map[string]dynamo.Counters) Stats {
	all := c[dynamo.Scope]
	s := Stats{
		Campaign: id, State: state,
		Recipients: all[dynamo.Recipients], Rejected: all[dynamo.Rejected],
		Reached:   breakdown(all, dynamo.Reached),
		Unreached: breakdown(all, dynamo.Unreached),
		// An empty list, not null, before any attempt: the API
		// describes channels as an array.
		Channels: []ChannelStats{},
	}
	s.InFlight = s.Recipients - s.Reached.Total - s.Unreached.Total
	// The stored state says "running" once the fan-out has handed on
	// the whole audience; with no journey left under way, the campaign
	// is done, and people want to read that rather than infer it.
	if state == string(campaign.Running) && s.InFlight == 0 {
		s.State = string(campaign.Completed)
	}
	for _, ch := range channel.All {
		if cs, ok := c[string(ch)]; ok {
			s.Channels = append(s.Channels, channelStats(string(ch), cs))
		}
	}
	return s
}

func breakdown(c dynamo.Counters, name string) Breakdown {
	b := Breakdown{Total: c[name], By: map[string]int64{}}
	for k, v := range c {
		if part, ok := strings.CutPrefix(k, name+"_"); ok {
			b.By[part] = v
		}
	}
	return b
}

func channelStats(ch string, c dynamo.Counters) ChannelStats {
	s := ChannelStats{
		Channel:   ch,
		Attempted: c[string(status.Queued)],
		Sent:      c[string(status.Submitted)],
		Delivered: c[string(status.Delivered)],
		Read:      c[string(status.Read)],
		Failed: Failed{Total: c[string(status.Failed)],
			ByClass: map[string]int64{}, TopCodes: []Code{}},
		MovedOn:                c[dynamo.MovedOn],
		DeliveredAfterFallback: c[dynamo.AfterFallback],
		TimeToDelivery:         latency(c),
	}
	for k, v := range c {
		if class, ok := strings.CutPrefix(k, "fc_"); ok {
			s.Failed.ByClass[class] = v
		}
		if code, ok := strings.CutPrefix(k, "code_"); ok {
			s.Failed.TopCodes = append(s.Failed.TopCodes, Code{code, v})
		}
	}
	sort.Slice(s.Failed.TopCodes, func(i, j int) bool {
		a, b := s.Failed.TopCodes[i], s.Failed.TopCodes[j]
		return a.Count > b.Count || a.Count == b.Count && a.Code < b.Code
	})
	if len(s.Failed.TopCodes) > topCodes {
		s.Failed.TopCodes = s.Failed.TopCodes[:topCodes]
	}
	return s
}

// latency reads the median and 90th percentile from the buckets.
func latency(c dynamo.Counters) Latency {
	var total int64
	for _, b := range dynamo.LatencyBuckets {
		total += c["lat_"+strconv.FormatInt(b, 10)]
	}
	total += c["lat_inf"]
	if total == 0 {
		return Latency{}
	}
	pct := func(p float64) int64 {
		want := int64(float64(total)*p + 0.999999)
		var seen int64
		for _, b := range dynamo.LatencyBuckets {
			seen += c["lat_"+strconv.FormatInt(b, 10)]
			if seen >= want {
				return b
			}
		}
		return -1 // beyond the last bucket
	}
	return Latency{P50: pct(0.5), P90: pct(0.9)}
}

// Funnel checks the cascade's accounting: for a campaign whose
// recipients all follow order, attempts on each channel equal the
// attempts that moved on from the channel before it, and deliveries on
// each step but the last equal those that reached the recipient there
// plus those after fallback. It returns one message per broken link.
func Funnel(order []string, c map[string]dynamo.Counters) []string {
	var broken []string
	for i := 1; i < len(order); i++ {
		prev, cur := order[i-1], order[i]
		moved, attempted := c[prev][dynamo.MovedOn], c[cur][string(status.Queued)]
		if moved != attempted {
			broken = append(broken, cur+" attempted "+strconv.FormatInt(attempted, 10)+
				" but "+strconv.FormatInt(moved, 10)+" moved on from "+prev)
		}
	}
	// Every delivery on a step the cascade can leave either reached the
	// recipient there or came after the cascade had moved on. (The last
	// step has no "moved on", and a retry shares its channel.)
	for _, ch := range order[:max(len(order)-1, 0)] {
		delivered := c[ch][string(status.Delivered)]
		reached, after := c[dynamo.Scope][dynamo.Reached+"_"+ch], c[ch][dynamo.AfterFallback]
		if delivered != reached+after {
			broken = append(broken, ch+" delivered "+strconv.FormatInt(delivered, 10)+
				" but reached "+strconv.FormatInt(reached, 10)+" there and "+
				strconv.FormatInt(after, 10)+" after fallback")
		}
	}
	return broken
}
