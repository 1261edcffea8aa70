// Command webhook-whatsapp is Cascade's webhook-whatsapp function. The
// provider calls its Lambda function URL; it takes
// events.LambdaFunctionURLRequest and verifies the provider before
// reading anything.
//
// Environment: TABLE_NAME, SECRET_PREFIX.
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
	cfg, err := function.Load(os.LookupEnv, "TABLE_NAME", "SECRET_PREFIX")
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	log := logging.New(os.Stdout, "webhook-whatsapp")
	h := function.Webhook("whatsapp", cfg, function.NewClients(awsCfg, cfg), log)
	lambda.Start(h.Handle)
	return nil
}
