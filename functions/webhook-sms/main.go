// Command webhook-sms is Cascade's webhook-sms function. The provider
// calls its Lambda function URL; it takes
// events.LambdaFunctionURLRequest and verifies the provider before
// reading anything.
//
// Environment: TABLE_NAME, SECRET_PREFIX.
package main

import (
	"log/slog"

	"github.com/cascade-oss/cascade/internal/function"
)

func main() {
	function.Main("webhook-sms", []string{"TABLE_NAME", "SECRET_PREFIX"},
		func(c function.Config, cl function.Clients, log *slog.Logger) any {
			return function.Webhook("sms", c, cl, log).Handle
		})
}
