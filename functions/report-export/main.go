// Command report-export is Cascade's report-export function. The report
// queue (SQS) invokes it with events.SQSEvent; each message asks for one
// CSV report, streamed into S3.
//
// Environment: TABLE_NAME, BUCKET_NAME.
package main

import (
	"log/slog"

	"github.com/cascade-oss/cascade/internal/function"
)

func main() {
	function.Main("report-export", []string{"TABLE_NAME", "BUCKET_NAME"},
		func(c function.Config, cl function.Clients, log *slog.Logger) any {
			return function.ReportExport(c, cl, log).Handle
		})
}
