// Command status-processor is Cascade's status-processor function. The
// table's DynamoDB stream invokes it with events.DynamoDBEvent;
// attempts' terminal transitions become the cascade's task callbacks.
//
// Environment: TABLE_NAME.
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
	cfg, err := function.Load(os.LookupEnv, "TABLE_NAME")
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	log := logging.New(os.Stdout, "status-processor")
	h := function.StatusProcessor(cfg, function.NewClients(awsCfg, cfg), log)
	lambda.Start(h.Handle)
	return nil
}
