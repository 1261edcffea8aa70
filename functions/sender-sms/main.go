// Command sender-sms is Cascade's sender-sms function. The sms queue
// (SQS) invokes it with events.SQSEvent; each message is one cascade
// step with its task token.
//
// Environment: TABLE_NAME, QUEUE_URL, SECRET_PREFIX, and optionally the
// WHATSAPP_API_URL, RBM_API_URL or MSG91_API_URL.
package main

import (
	"log/slog"
	"net/http"

	"github.com/cascade-oss/cascade/internal/function"
)

func main() {
	function.Main("sender-sms", []string{"TABLE_NAME", "QUEUE_URL", "SECRET_PREFIX"},
		func(c function.Config, cl function.Clients, log *slog.Logger) any {
			return function.Sender("sms", c, cl, log, http.DefaultClient, 0).Handle
		})
}
