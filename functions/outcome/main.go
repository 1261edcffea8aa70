// Command outcome is Cascade's outcome function. The outcome queue (SQS)
// invokes it with events.SQSEvent; the cascade state machine sends one
// message when a recipient's journey ends.
//
// Environment: TABLE_NAME.
package main

import (
	"log/slog"

	"github.com/cascade-oss/cascade/internal/function"
)

func main() {
	function.Main("outcome", []string{"TABLE_NAME"},
		func(c function.Config, cl function.Clients, log *slog.Logger) any {
			return function.Outcome(c, cl, log).Handle
		})
}
