// Package logging builds the one JSON logger each function uses: stable
// lower-camel keys, and the Lambda request id on every record logged
// with an invocation's context.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// New returns a JSON logger writing to w, named for the function.
func New(w io.Writer, function string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})
	return slog.New(requestID{h}).With("function", function)
}

// requestID adds the Lambda request id from the record's context.
type requestID struct{ slog.Handler }

func (h requestID) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestID) WithAttrs(a []slog.Attr) slog.Handler {
	return requestID{h.Handler.WithAttrs(a)}
}

func (h requestID) WithGroup(name string) slog.Handler {
	return requestID{h.Handler.WithGroup(name)}
}
