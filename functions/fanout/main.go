// Command fanout is Cascade's fanout function. The fan-out queue (SQS)
// invokes it with events.SQSEvent; each message is one chunk of a
// launched campaign's audience.
//
// Environment: TABLE_NAME, BUCKET_NAME, FANOUT_QUEUE_URL,
// STATE_MACHINE_ARN.
package main

import (
	"log/slog"

	"github.com/cascade-oss/cascade/internal/function"
)

func main() {
	function.Main("fanout", []string{"TABLE_NAME", "BUCKET_NAME", "FANOUT_QUEUE_URL", "STATE_MACHINE_ARN"},
		func(c function.Config, cl function.Clients, log *slog.Logger) any {
			return function.Fanout(c, cl, log).Handle
		})
}
