// Command api is Cascade's api function. API Gateway's HTTP API (payload
// version 2) invokes it with events.APIGatewayV2HTTPRequest for every
// /v1 route; the JWT authorizer's claims name the tenant.
//
// Environment: TABLE_NAME, BUCKET_NAME, FANOUT_QUEUE_URL,
// REPORT_QUEUE_URL, SECRET_PREFIX, WEBHOOK_URL_WHATSAPP,
// WEBHOOK_URL_RCS, WEBHOOK_URL_SMS.
package main

import (
	"log/slog"

	"github.com/cascade-oss/cascade/internal/function"
)

func main() {
	function.Main("api", []string{"TABLE_NAME", "BUCKET_NAME", "FANOUT_QUEUE_URL", "REPORT_QUEUE_URL", "SECRET_PREFIX", "WEBHOOK_URL_WHATSAPP", "WEBHOOK_URL_RCS", "WEBHOOK_URL_SMS"},
		func(c function.Config, cl function.Clients, log *slog.Logger) any {
			return function.API(c, cl, log).Handle
		})
}
