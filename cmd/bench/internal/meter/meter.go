// Package meter is a counting proxy in front of moto's server. The
// local stack talks to AWS through it, so it sees every request the
// handlers and event sources make: it counts them by service and
// operation, works out the DynamoDB request units each one would be
// billed, and times the Lambda invocations that queue and stream
// batches stand for (from a batch's arrival to its deletion or the
// next read of the shard).
package meter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Meter is an http.Handler that forwards to moto and counts.
type Meter struct {
	target string
	client *http.Client

	mu        sync.Mutex
	requests  int64
	motoTime  time.Duration
	ops       map[string]int64
	opTime    map[string]time.Duration
	byService map[string]int64
	idleSQS   int64
	idleShard int64
	s3Writes  int64
	s3Reads   int64
	ddb       ledger
	queues    map[string]string // queue URL → function
	receipts  map[string]*batch
	iterators map[string]*batch
	calls     map[string]*Calls
}

// Calls are one function's invocations: their count and the
// durations seen, in milliseconds.
type Calls struct {
	Count     int64
	Durations []float64
}

// batch is one invocation waiting for its end to be seen.
type batch struct {
	function string
	start    time.Time
	done     bool
}

// New returns a meter forwarding to the moto server at target.
func New(target string) *Meter {
	m := &Meter{
		target: strings.TrimSuffix(target, "/"),
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, DisableCompression: true,
		}},
	}
	m.Reset()
	return m
}

// Reset forgets everything counted so far, so set-up is not billed to
// the campaign. Queue names survive.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests, m.motoTime, m.s3Writes, m.s3Reads = 0, 0, 0, 0
	m.idleSQS, m.idleShard = 0, 0
	m.ops, m.byService = map[string]int64{}, map[string]int64{}
	m.opTime = map[string]time.Duration{}
	m.ddb = newLedger()
	m.receipts, m.iterators = map[string]*batch{}, map[string]*batch{}
	m.calls = map[string]*Calls{}
	if m.queues == nil {
		m.queues = map[string]string{}
	}
}

// NameQueue says which function a queue's batches invoke.
func (m *Meter) NameQueue(queueURL, function string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queues[queueURL] = function
}

// Invoked records one invocation seen elsewhere (the gateway's).
func (m *Meter) Invoked(function string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.call(function)
	c.Count++
	c.Durations = append(c.Durations, ms(d))
}

// call returns the function's record; the caller holds m.mu.
func (m *Meter) call(function string) *Calls {
	c := m.calls[function]
	if c == nil {
		c = &Calls{}
		m.calls[function] = c
	}
	return c
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ServeHTTP forwards one request and counts it.
func (m *Meter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "meter: read request", http.StatusBadGateway)
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method,
		m.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "meter: build request", http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.Host = r.Host
	out.ContentLength = int64(len(body))

	sent := time.Now()
	res, err := m.client.Do(out)
	if err != nil {
		http.Error(w, "meter: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	took := time.Since(sent)
	if err != nil {
		http.Error(w, "meter: read answer", http.StatusBadGateway)
		return
	}
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(answer)

	m.count(call{r: r, body: body, status: res.StatusCode, answer: answer, at: sent, took: took})
}

// call is one forwarded request and its answer.
type call struct {
	r      *http.Request
	body   []byte
	status int
	answer []byte
	at     time.Time
	took   time.Duration
}

var scope = regexp.MustCompile(`Credential=[^/]*/[^/]*/[^/]*/([^/]+)/aws4_request`)

// service reads the signing scope's service name, from the
// Authorization header or a presigned URL's query.
func service(r *http.Request) string {
	if s := scope.FindStringSubmatch(r.Header.Get("Authorization")); s != nil {
		return s[1]
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		if parts := strings.Split(c, "/"); len(parts) >= 4 {
			return parts[3]
		}
	}
	return "unknown"
}

// operation names the call: the JSON protocols' target, else the
// HTTP method (S3).
func operation(r *http.Request) (api, op string) {
	t := r.Header.Get("X-Amz-Target")
	if api, op, ok := strings.Cut(t, "."); ok {
		return api, op
	}
	return "", r.Method
}

func (m *Meter) count(c call) {
	svc := service(c.r)
	api, op := operation(c.r)
	if strings.HasPrefix(api, "DynamoDBStreams") {
		svc = "dynamodbstreams"
	}
	var ddb ddbCall
	if svc == "dynamodb" {
		ddb = parseDynamo(op, c.body, c.answer)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests++
	m.motoTime += c.took
	m.byService[svc]++
	m.ops[svc+"."+op]++
	m.opTime[svc+"."+op] += c.took
	switch svc {
	case "dynamodb":
		m.ddb.add(ddb)
	case "dynamodbstreams":
		m.stream(op, c)
	case "sqs":
		m.sqs(op, c)
	case "s3":
		if c.r.Method == http.MethodGet || c.r.Method == http.MethodHead {
			m.s3Reads++
		} else {
			m.s3Writes++
		}
	}
}

// sqs opens an invocation for each batch received and closes it when
// the batch's first receipt is deleted; the caller holds m.mu.
func (m *Meter) sqs(op string, c call) {
	switch op {
	case "ReceiveMessage":
		var in struct{ QueueUrl string }
		var out struct {
			Messages []struct{ ReceiptHandle string }
		}
		_ = json.Unmarshal(c.body, &in)
		_ = json.Unmarshal(c.answer, &out)
		if len(out.Messages) == 0 {
			m.idleSQS++
			return
		}
		fn := m.queues[in.QueueUrl]
		if fn == "" {
			fn = "queue " + queueName(in.QueueUrl)
		}
		m.call(fn).Count++
		b := &batch{function: fn, start: c.at.Add(c.took)}
		for _, msg := range out.Messages {
			m.receipts[msg.ReceiptHandle] = b
		}
	case "DeleteMessageBatch", "DeleteMessage":
		var in struct {
			ReceiptHandle string
			Entries       []struct{ ReceiptHandle string }
		}
		_ = json.Unmarshal(c.body, &in)
		handles := []string{in.ReceiptHandle}
		for _, e := range in.Entries {
			handles = append(handles, e.ReceiptHandle)
		}
		for _, h := range handles {
			m.close(m.receipts[h], c.at)
			delete(m.receipts, h)
		}
	}
}

// stream opens an invocation for each batch of records and closes it
// when the shard is read again from where the batch ended; the caller
// holds m.mu.
func (m *Meter) stream(op string, c call) {
	if op != "GetRecords" {
		return
	}
	var in struct{ ShardIterator string }
	_ = json.Unmarshal(c.body, &in)
	if b := m.iterators[in.ShardIterator]; b != nil {
		m.close(b, c.at)
		delete(m.iterators, in.ShardIterator)
	}
	var out struct {
		Records           []json.RawMessage
		NextShardIterator string
	}
	_ = json.Unmarshal(c.answer, &out)
	if len(out.Records) == 0 {
		m.idleShard++
		return
	}
	const fn = "status-processor"
	m.call(fn).Count++
	m.iterators[out.NextShardIterator] = &batch{function: fn, start: c.at.Add(c.took)}
}

// close ends an open invocation at end; the caller holds m.mu.
func (m *Meter) close(b *batch, end time.Time) {
	if b == nil || b.done {
		return
	}
	b.done = true
	c := m.call(b.function)
	c.Durations = append(c.Durations, ms(end.Sub(b.start)))
}

func queueName(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Path[strings.LastIndex(p.Path, "/")+1:]
}

// Report is what the meter counted.
type Report struct {
	Requests  int64
	MeanMS    float64
	ByService map[string]int64
	Ops       map[string]int64
	// OpSeconds is the time moto took over each operation, in all.
	OpSeconds map[string]float64
	// IdlePolls are receives and stream reads that found nothing.
	IdlePolls int64
	WRU, RRU  float64
	// WRUByOp splits the write units by operation.
	WRUByOp map[string]float64
	// SQSRequests are the billable SQS requests: all but idle polls.
	SQSRequests       int64
	S3Writes, S3Reads int64
	SecretsCalls      int64
	Calls             map[string]Calls
}

// Report sums up; final gives the table's items as they ended, which
// prices the writes whose requests did not carry the whole item.
func (m *Meter) Report(final map[string]Final) Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := Report{
		Requests: m.requests, ByService: copyMap(m.byService), Ops: copyMap(m.ops),
		IdlePolls: m.idleSQS + m.idleShard, S3Writes: m.s3Writes, S3Reads: m.s3Reads,
		SecretsCalls: m.byService["secretsmanager"], Calls: map[string]Calls{},
	}
	r.OpSeconds = map[string]float64{}
	for k, d := range m.opTime {
		r.OpSeconds[k] = d.Seconds()
	}
	if m.requests > 0 {
		r.MeanMS = ms(m.motoTime) / float64(m.requests)
	}
	r.WRU, r.RRU, r.WRUByOp = m.ddb.units(final)
	r.SQSRequests = m.byService["sqs"] - m.idleSQS
	for k, c := range m.calls {
		r.Calls[k] = Calls{Count: c.Count, Durations: append([]float64(nil), c.Durations...)}
	}
	return r
}

func copyMap(in map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// String is a one-line summary for logs.
func (r Report) String() string {
	return fmt.Sprintf("%d requests to moto, %.1f ms mean, %.0f WRU, %.0f RRU",
		r.Requests, r.MeanMS, r.WRU, r.RRU)
}
