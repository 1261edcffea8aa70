// Package bill turns measured AWS work per recipient into dollars per
// million recipients, from the price table kept in bench/prices.json.
package bill

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
)

// Price is one unit price and where it was read.
type Price struct {
	USD    float64 `json:"usd"`
	Per    string  `json:"per"`
	Source string  `json:"source"`
}

// Prices is the price table.
type Prices struct {
	Region       string           `json:"region"`
	Architecture string           `json:"architecture"`
	Recorded     string           `json:"recorded"`
	Note         string           `json:"note"`
	Items        map[string]Price `json:"prices"`
	NotCounted   []string         `json:"notCounted"`
}

// The price keys the bill needs.
const (
	Transition  = "stepFunctions.transition"
	LambdaCall  = "lambda.request"
	LambdaGBS   = "lambda.gbSecondArm64"
	WriteUnit   = "dynamodb.writeUnit"
	ReadUnit    = "dynamodb.readUnit"
	SQSRequest  = "sqs.request"
	S3Write     = "s3.write"
	S3Read      = "s3.read"
	LogsGB      = "logs.ingestGB"
	SecretsCall = "secretsManager.call"
	APIRequest  = "apiGateway.httpRequest"
)

var required = []string{
	Transition, LambdaCall, LambdaGBS, WriteUnit, ReadUnit, SQSRequest,
	S3Write, S3Read, LogsGB, SecretsCall, APIRequest,
}

// Load reads the price table at path; every price the bill needs
// must be there, with a source page, and the table must be dated.
func Load(path string) (Prices, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Prices{}, fmt.Errorf("read prices: %w", err)
	}
	var p Prices
	if err := json.Unmarshal(raw, &p); err != nil {
		return Prices{}, fmt.Errorf("decode %s: %w", path, err)
	}
	return p, p.check()
}

func (p Prices) check() error {
	if p.Recorded == "" || p.Region == "" {
		return fmt.Errorf("price table has no date or region")
	}
	for _, k := range required {
		it, ok := p.Items[k]
		if !ok || it.USD <= 0 || it.Source == "" {
			return fmt.Errorf("price %s missing, zero or without a source", k)
		}
	}
	return nil
}

// gb is a gigabyte as CloudWatch Logs counts it.
const gb = 1 << 30

// PerMillion prices a million recipients' worth of w.
func PerMillion(w results.Work, p Prices) results.Cost {
	const m = 1e6
	line := func(service, key, unit string, qty float64) results.CostLine {
		return results.CostLine{Service: service, Quantity: qty, Unit: unit,
			USD: qty * p.Items[key].USD}
	}
	lines := []results.CostLine{
		line("Step Functions", Transition, "state transitions", w.Transitions*m),
		line("Lambda requests", LambdaCall, "invocations", w.LambdaInvocations*m),
		line("Lambda duration", LambdaGBS, "GB-seconds", w.LambdaGBSeconds*m),
		line("DynamoDB writes", WriteUnit, "write request units", w.WRU*m),
		line("DynamoDB reads", ReadUnit, "read request units", w.RRU*m),
		line("SQS", SQSRequest, "requests", w.SQSRequests*m),
		line("S3 writes", S3Write, "requests", w.S3Writes*m),
		line("S3 reads", S3Read, "requests", w.S3Reads*m),
		line("CloudWatch Logs (functions)", LogsGB, "GB", w.LogBytes*m/gb),
		line("CloudWatch Logs (state machine)", LogsGB, "GB", w.StateMachineLogBytes*m/gb),
		line("Secrets Manager", SecretsCall, "API calls", w.SecretsCalls*m),
		line("API Gateway", APIRequest, "requests", w.APIRequests*m),
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].USD > lines[j].USD })
	c := results.Cost{PriceDate: p.Recorded, Region: p.Region, Lines: lines, Left: p.NotCounted}
	for _, l := range lines {
		c.PerMillion += l.USD
	}
	return c
}

// MemoryMB is each function's memory size as infra/stack/functions.go
// gives it; a test keeps the two in step. Duration is billed by it.
var MemoryMB = map[string]int{
	"api":              256,
	"fanout":           512,
	"sender-whatsapp":  256,
	"sender-rcs":       256,
	"sender-sms":       256,
	"webhook-whatsapp": 256,
	"webhook-rcs":      256,
	"webhook-sms":      256,
	"status-processor": 256,
	"outcome":          256,
	"report-export":    1024,
}

// GBSeconds is what calls of a function of memMB lasting ms each
// cost in duration, each rounded up to the millisecond as Lambda
// bills.
func GBSeconds(memMB int, ms []float64) float64 {
	total := 0.0
	for _, d := range ms {
		total += math.Ceil(d)
	}
	return float64(memMB) / 1024 * total / 1000
}
