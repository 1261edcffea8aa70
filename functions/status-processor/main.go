// Command status-processor is Cascade's status-processor function. The
// table's DynamoDB stream invokes it with events.DynamoDBEvent;
// attempts' terminal transitions become the cascade's task callbacks.
//
// Environment: TABLE_NAME.
package main

import (
	"log/slog"

	"github.com/cascade-oss/cascade/internal/function"
)

func main() {
	function.Main("status-processor", []string{"TABLE_NAME"},
		func(c function.Config, cl function.Clients, log *slog.Logger) any {
			return function.StatusProcessor(c, cl, log).Handle
		})
}
