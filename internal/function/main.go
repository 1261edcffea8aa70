package function

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cascade-oss/cascade/internal/logging"
)

// Main is every function's main: it reads the configuration once
// (reporting every missing variable), builds the AWS clients and the
// JSON logger once per cold start, builds the handler and hands it to
// the Lambda runtime. A cold start that fails exits with the reason.
func Main(name string, required []string, build func(Config, Clients, *slog.Logger) any) {
	if err := run(name, required, build); err != nil {
		slog.Error("cold start failed", "function", name, "err", err)
		os.Exit(1)
	}
}

func run(name string, required []string, build func(Config, Clients, *slog.Logger) any) error {
	cfg, err := Load(os.LookupEnv, required...)
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	log := logging.New(os.Stdout, name)
	lambda.Start(build(cfg, NewClients(awsCfg, cfg), log))
	return nil
}
