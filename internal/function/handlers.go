package function

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cascade-oss/cascade/internal/api"
	"github.com/cascade-oss/cascade/internal/callback"
	"github.com/cascade-oss/cascade/internal/fanout"
	"github.com/cascade-oss/cascade/internal/outcome"
	"github.com/cascade-oss/cascade/internal/report"
	"github.com/cascade-oss/cascade/internal/sender"
	"github.com/cascade-oss/cascade/internal/webhook"
)

// API builds the HTTP API's handler.
func API(c Config, cl Clients, log *slog.Logger) *api.API {
	links := api.S3Links{Presign: s3.NewPresignClient(cl.S3), S3: cl.S3, Bucket: c.Bucket}
	return api.New(api.Config{
		WebhookURLs: map[string]string{
			"whatsapp": c.WebhookWhatsApp, "rcs": c.WebhookRCS, "sms": c.WebhookSMS,
		},
		UploadTTL: 15 * time.Minute,
	}, cl.store(c), cl.secrets(c),
		api.QueueLauncher{SQS: cl.SQS, QueueURL: c.FanoutQueueURL}, links,
		api.Reports{Store: cl.store(c), SQS: cl.SQS, QueueURL: c.ReportQueueURL, Links: links},
		log)
}

// Fanout builds the fan-out queue's handler.
func Fanout(c Config, cl Clients, log *slog.Logger) *fanout.Handler {
	return fanout.New(fanout.Config{
		StateMachineARN: c.StateMachineARN, QueueURL: c.FanoutQueueURL, Bucket: c.Bucket,
		ChunkSize: 50, MaxInFlight: c.MaxInFlight,
	}, cl.store(c), cl.SFN, cl.SQS, cl.S3, log)
}

// StatusProcessor builds the stream handler that answers the cascade.
func StatusProcessor(c Config, cl Clients, log *slog.Logger) *callback.Processor {
	return callback.New(cl.SFN, cl.store(c), log)
}

// Outcome builds the outcome queue's handler.
func Outcome(c Config, cl Clients, log *slog.Logger) *outcome.Handler {
	return outcome.New(cl.store(c), log)
}

// ReportExport builds the report queue's handler.
func ReportExport(c Config, cl Clients, log *slog.Logger) *report.Exporter {
	return report.NewExporter(cl.store(c), cl.store(c), report.NewUploader(cl.S3), c.Bucket, log)
}

// Sender builds the sender of one channel. hc is the HTTP client for
// the provider; backoff is the first retry delay (zero for the
// default).
func Sender(ch string, c Config, cl Clients, log *slog.Logger, hc *http.Client, backoff time.Duration) *sender.Handler {
	var p sender.Provider
	switch ch {
	case "whatsapp":
		p = whatsAppProvider{hc: hc, baseURL: c.WhatsAppAPIURL, version: c.WhatsAppAPIVersion}
	case "rcs":
		p = rcsProvider{hc: hc, baseURL: c.RBMAPIURL}
	default:
		p = smsProvider{hc: hc, baseURL: c.MSG91APIURL, now: time.Now}
	}
	return sender.New(sender.Config{Channel: ch, QueueURL: c.QueueURL, Backoff: backoff},
		cl.store(c), cl.secrets(c), p, cl.SQS, log)
}

// Webhook builds the webhook of one channel's provider.
func Webhook(ch string, c Config, cl Clients, log *slog.Logger) *webhook.Handler {
	var p webhook.Provider
	switch ch {
	case "whatsapp":
		p = webhook.WhatsApp{}
	case "rcs":
		p = webhook.RBM{}
	default:
		p = webhook.MSG91{}
	}
	return webhook.New(p, cl.store(c), cl.secrets(c), log, metric(log))
}
