// Command api is Cascade's api function. API Gateway's HTTP API (payload
// version 2) invokes it with events.APIGatewayV2HTTPRequest for every
// /v1 route; the JWT authorizer's claims name the tenant.
//
// Environment: TABLE_NAME, BUCKET_NAME, FANOUT_QUEUE_URL,
// REPORT_QUEUE_URL, SECRET_PREFIX, WEBHOOK_URL_WHATSAPP,
// WEBHOOK_URL_RCS, WEBHOOK_URL_SMS.
package main

import (
	"context"
	"fmt"
	"log/slog"
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
	cfg, err := function.Load(os.LookupEnv, "TABLE_NAME", "BUCKET_NAME", "FANOUT_QUEUE_URL", "REPORT_QUEUE_URL", "SECRET_PREFIX", "WEBHOOK_URL_WHATSAPP", "WEBHOOK_URL_RCS", "WEBHOOK_URL_SMS")
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	log := logging.New(os.Stdout, "api")
	h := function.API(cfg, function.NewClients(awsCfg, cfg), log)
	lambda.Start(h.Handle)
	return nil
}
