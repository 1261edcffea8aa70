// Command infra is Cascade's CDK app. `make synth` runs it through
// the CDK CLI (cdk.json) to write the production stack's template to
// cdk.out; it needs the functions built first (`make build`).
//
// Context values (-c name=value): assetDir, the folder of built
// functions ("dist"); concurrency.whatsapp, concurrency.rcs and
// concurrency.sms, each sender's maximum concurrency.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/cascade-oss/cascade/infra/stack"
	"github.com/cascade-oss/cascade/internal/cascade"
	"github.com/cascade-oss/cascade/internal/channel"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	props, err := propsFromContext(app)
	if err != nil {
		return err
	}
	stack.NewCascadeStack(app, "Cascade", props)
	app.Synth(nil)
	return nil
}

// propsFromContext reads the stack's props from the app's context
// and checks that every function has been built.
func propsFromContext(app awscdk.App) (*stack.CascadeStackProps, error) {
	p := &stack.CascadeStackProps{
		Definition:        cascade.RawDefinition(),
		AssetDir:          contextString(app, "assetDir", "dist"),
		SenderConcurrency: map[channel.Channel]int{},
	}
	for _, c := range channel.All {
		n, err := contextInt(app, "concurrency."+string(c))
		if err != nil {
			return nil, err
		}
		if n > 0 {
			p.SenderConcurrency[c] = n
		}
	}
	return p, checkAssets(p.AssetDir)
}

// checkAssets reports every function whose bootstrap is missing.
func checkAssets(dir string) error {
	var errs []error
	for _, name := range stack.FunctionNames() {
		path := filepath.Join(dir, name, "bootstrap")
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("function %s not built (make build): %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func contextString(app awscdk.App, key, def string) string {
	v := app.Node().TryGetContext(jsii.String(key))
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return def
}

// contextInt reads a whole number given on the command line (a
// string) or in cdk.json (a number); zero when absent.
func contextInt(app awscdk.App, key string) (int, error) {
	switch v := app.Node().TryGetContext(jsii.String(key)).(type) {
	case nil:
		return 0, nil
	case float64:
		return int(v), nil
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("context %s: %w", key, err)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("context %s: want a number, got %T", key, v)
	}
}
