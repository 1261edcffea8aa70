// Package results holds what make bench measures, in the shape it is
// written to bench/results.json: cold starts, micro-benchmarks, report
// exports, end-to-end runs on the local stack, and the AWS bill they
// imply. The bench program and its end-to-end child both use it.
package results

import "time"

// Results is one run of make bench.
type Results struct {
	StartedAt time.Time  `json:"startedAt"`
	Seconds   float64    `json:"seconds"`
	Machine   Machine    `json:"machine"`
	ColdStart *ColdStart `json:"coldStart,omitempty"`
	Micro     []Micro    `json:"micro,omitempty"`
	Exports   []Export   `json:"exports,omitempty"`
	E2E       []E2E      `json:"e2e,omitempty"`
	// Cost is the AWS bill per 1,000,000 recipients, from the largest
	// end-to-end run that finished.
	Cost    *Cost    `json:"cost,omitempty"`
	Targets []Target `json:"targets"`
	// NotRun names each part that did not run, and why.
	NotRun map[string]string `json:"notRun,omitempty"`
}

// Machine describes where the figures were taken.
type Machine struct {
	GoVersion string `json:"goVersion"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel,omitempty"`
}

// ColdStart is every function's start under the Lambda Runtime
// Interface Emulator.
type ColdStart struct {
	// RIE is the emulator's module version, from the Go module proxy.
	RIE       string     `json:"rie"`
	Functions []Function `json:"functions"`
}

// Function is one function's bootstrap and first invocation.
type Function struct {
	Name string `json:"name"`
	// ARM64Bytes is dist/<name>/bootstrap as Lambda runs it;
	// AMD64Bytes the copy this machine runs under the emulator.
	ARM64Bytes int64  `json:"arm64Bytes"`
	AMD64Bytes int64  `json:"amd64Bytes"`
	Event      string `json:"event"`
	// InitMS runs from the bootstrap's exec to its first request for
	// work, InvokeMS from handing it the sample event to its answer,
	// both timed on the runtime API between emulator and bootstrap.
	InitMS   float64 `json:"initMs"`
	InvokeMS float64 `json:"invokeMs"`
	// EmulatorMS is the Duration of the emulator's REPORT line. This
	// emulator starts the runtime without waiting, so it holds the
	// init too, and its own Init Duration is about zero.
	EmulatorMS float64 `json:"emulatorMs"`
	// FirstResponseMS is emulator start to the first answer.
	FirstResponseMS float64 `json:"firstResponseMs"`
	HTTPStatus      int     `json:"httpStatus"`
	// Answer is "ok" or the function's error type; either proves the
	// binary speaks the runtime API.
	Answer string `json:"answer"`
	Error  string `json:"error,omitempty"`
}

// Micro is one Go benchmark's figures.
type Micro struct {
	Package     string             `json:"package"`
	Name        string             `json:"name"`
	Iterations  int64              `json:"iterations"`
	NsPerOp     float64            `json:"nsPerOp"`
	BytesPerOp  float64            `json:"bytesPerOp"`
	AllocsPerOp float64            `json:"allocsPerOp"`
	Extra       map[string]float64 `json:"extra,omitempty"`
}

// Export is one report export into S3.
type Export struct {
	// Source says where the rows came from: "in-process" (synthetic,
	// no database) or "dynamodb" (the real store on moto).
	Source   string  `json:"source"`
	Kind     string  `json:"kind"`
	Attempts int     `json:"attempts"`
	Rows     int     `json:"rows"`
	Bytes    int64   `json:"bytes"`
	Parts    int     `json:"parts"`
	Seconds  float64 `json:"seconds"`
	RowsPerS float64 `json:"rowsPerSecond"`
	// PeakRSSMB is VmHWM of the process that did only this export;
	// PeakHeapMB Go's largest heap in it.
	PeakRSSMB  float64 `json:"peakRssMB"`
	PeakHeapMB float64 `json:"peakHeapMB"`
	Error      string  `json:"error,omitempty"`
}

// Target is one goal of issue 8 and whether this run met it.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	// Verdict is PASS, MISS or NOT RUN.
	Verdict string `json:"verdict"`
}

// Verdicts.
const (
	Pass   = "PASS"
	Miss   = "MISS"
	NotRun = "NOT RUN"
)

// E2E is one campaign through the whole local stack.
type E2E struct {
	Recipients int `json:"recipients"`
	// Ended counts the journeys that had ended when the run stopped; it
	// is Recipients unless the time limit cut the campaign short, and
	// every per-recipient figure is divided by it.
	Ended int64 `json:"ended"`
	// Partial says why the figures cover only Ended journeys.
	Partial string `json:"partial,omitempty"`
	// InFlight is the fan-out's cap on journeys under way.
	InFlight int64 `json:"inFlightCap"`
	// Seconds runs from the launch call to the last journey's end.
	Seconds        float64          `json:"seconds"`
	RecipientsPerS float64          `json:"recipientsPerSecond"`
	Outcomes       map[string]int64 `json:"outcomes"`
	CPU            CPU              `json:"cpu"`
	Fallback       Latency          `json:"fallbackLatency"`
	// Work is the AWS work per recipient, averaged over the campaign.
	Work Work `json:"workPerRecipient"`
	// Paths are state transitions by journey, from a sample of
	// execution histories.
	Paths     []Path        `json:"paths"`
	Functions []Invocations `json:"functions"`
	Moto      Moto          `json:"moto"`
	Error     string        `json:"error,omitempty"`
}

// CPU splits the CPU time spent while the campaign ran.
type CPU struct {
	// ProcessMS is the whole stack process; MeterMS the counting
	// proxies and FakesMS the provider fakes in it, neither of them
	// Cascade; OursMS the rest: handlers, event sources, gateway.
	ProcessMS          float64 `json:"processMs"`
	MeterMS            float64 `json:"meterMs"`
	FakesMS            float64 `json:"fakesMs"`
	OursMS             float64 `json:"oursMs"`
	OursPerRecipientMS float64 `json:"oursPerRecipientMs"`
	// MotoMS is the emulator's process, read from /proc.
	MotoMS             float64  `json:"motoMs"`
	MotoPerRecipientMS float64  `json:"motoPerRecipientMs"`
	Profile            string   `json:"profile,omitempty"`
	Top                []string `json:"top,omitempty"`
}

// Latency is a distribution in milliseconds.
type Latency struct {
	Samples int     `json:"samples"`
	P50MS   float64 `json:"p50Ms"`
	P99MS   float64 `json:"p99Ms"`
	MaxMS   float64 `json:"maxMs"`
	// Unmatched counts failed-status webhooks with no next send.
	Unmatched int `json:"unmatched"`
}

// Path is one kind of journey: how many fallbacks it took.
type Path struct {
	Fallbacks   int     `json:"fallbacks"`
	Delivered   bool    `json:"delivered"`
	Executions  int     `json:"executions"`
	Transitions float64 `json:"transitions"`
}

// Work is AWS work per recipient.
type Work struct {
	Transitions float64 `json:"stateTransitions"`
	// WRU and RRU are DynamoDB on-demand request units, computed from
	// item sizes as DynamoDB bills them.
	WRU float64 `json:"dynamodbWriteUnits"`
	RRU float64 `json:"dynamodbReadUnits"`
	// WRUByOp splits WRU by DynamoDB operation.
	WRUByOp map[string]float64 `json:"dynamodbWriteUnitsByOperation,omitempty"`
	// SQSRequests counts sends (the state machine's included),
	// receives that returned messages, and deletes.
	SQSRequests float64 `json:"sqsRequests"`
	// LambdaInvocations and LambdaGBSeconds use each function's
	// memory size from the CDK stack.
	LambdaInvocations float64 `json:"lambdaInvocations"`
	LambdaGBSeconds   float64 `json:"lambdaGBSeconds"`
	// S3Writes are PUT, POST and LIST requests; S3Reads GET and HEAD.
	S3Writes     float64 `json:"s3Writes"`
	S3Reads      float64 `json:"s3Reads"`
	SecretsCalls float64 `json:"secretsManagerCalls"`
	APIRequests  float64 `json:"apiRequests"`
	// LogBytes are the functions' JSON logs; StateMachineLogBytes
	// the failure events that the state machine's ERROR level ships.
	LogBytes             float64 `json:"logBytes"`
	StateMachineLogBytes float64 `json:"stateMachineLogBytes"`
}

// Invocations are one function's calls in a run.
type Invocations struct {
	Function string `json:"function"`
	Count    int64  `json:"count"`
	// Timed counts the calls whose duration was seen.
	Timed    int64   `json:"timed"`
	MeanMS   float64 `json:"meanMs"`
	P99MS    float64 `json:"p99Ms"`
	MemoryMB int     `json:"memoryMB"`
}

// Moto is what the emulator was asked.
type Moto struct {
	Requests   int64            `json:"requests"`
	MeanMS     float64          `json:"meanMs"`
	ByService  map[string]int64 `json:"byService"`
	IdlePolls  int64            `json:"idlePolls"`
	Operations map[string]int64 `json:"operations"`
	// Seconds is moto's time per operation, summed over requests.
	Seconds map[string]float64 `json:"seconds"`
}

// Cost is the AWS bill per 1,000,000 recipients.
type Cost struct {
	FromRun    int        `json:"fromRunOfRecipients"`
	PriceDate  string     `json:"priceDate"`
	Region     string     `json:"region"`
	PerMillion float64    `json:"usdPerMillionRecipients"`
	Lines      []CostLine `json:"lines"`
	// Left names what the figure leaves out.
	Left []string `json:"leftOut,omitempty"`
}

// CostLine is one service's share.
type CostLine struct {
	Service  string  `json:"service"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
	USD      float64 `json:"usd"`
}
