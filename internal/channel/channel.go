// Package channel names the messaging channels Cascade can send on and
// the order they are tried in by default.
package channel

import "fmt"

// Channel is one messaging channel: whatsapp, rcs or sms.
type Channel string

// The channels Cascade knows. Their string values appear in API bodies,
// DynamoDB keys, queue names and reports, so they never change.
const (
	WhatsApp Channel = "whatsapp"
	RCS      Channel = "rcs"
	SMS      Channel = "sms"
)

// All lists every channel in the default cascade order.
var All = []Channel{WhatsApp, RCS, SMS}

// Parse returns the channel named s, or an error naming the accepted
// values.
func Parse(s string) (Channel, error) {
	switch c := Channel(s); c {
	case WhatsApp, RCS, SMS:
		return c, nil
	}
	return "", fmt.Errorf("unknown channel %q: want whatsapp, rcs or sms", s)
}

// Valid reports whether c is one of the known channels.
func (c Channel) Valid() bool {
	_, err := Parse(string(c))
	return err == nil
}

// String returns the channel's wire name.
func (c Channel) String() string { return string(c) }
