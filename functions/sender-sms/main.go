// Command sender-sms is Cascade's sender-sms function. The sms queue
// (SQS) invokes it with events.SQSEvent; each message is one cascade
// step with its task token.
//
// Environment: TABLE_NAME, QUEUE_URL, SECRET_PREFIX, and optionally the
// WHATSAPP_API_URL, RBM_API_URL or MSG91_API_URL.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cascade-oss/cascade/internal/function"
	"github.com/cascade-oss/cascade/internal/logging"
)

func main() {
	if err := run(); err != nil {
		slog.Error("cold start failed", "err", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	cfg, err := function.Load(os.LookupEnv, "TABLE_NAME", "QUEUE_URL", "SECRET_PREFIX")
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	log := logging.New(os.Stdout, "sender-sms")
	h := function.Sender("sms", cfg, function.NewClients(awsCfg, cfg), log, http.DefaultClient, 0)
	lambda.Start(h.Handle)
	return nil
}
