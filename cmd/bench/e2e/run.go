package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cascade-oss/cascade/cmd/bench/internal/meter"
	"github.com/cascade-oss/cascade/cmd/bench/internal/results"
	"github.com/cascade-oss/cascade/internal/dynamo"
)

// campaignFile is the demo campaign: WhatsApp, then RCS, then SMS.
const campaignFile = "events/demo-campaign.json"

// campaignRun runs one campaign and measures it.
func campaignRun(ctx context.Context, rc runConfig) (result, error) {
	res := result{Recipients: rc.recipients, InFlight: rc.inFlight}
	fmt.Fprintf(os.Stderr, "end to end: %d recipients\n", rc.recipients)
	e, err := startEnv(ctx, rc)
	if err != nil {
		return res, err
	}
	defer e.stop()
	if err := e.connect(ctx); err != nil {
		return res, err
	}
	audience := audienceCSV(rc.recipients)

	// Everything counted from here on is the campaign's.
	e.meter.Reset()
	e.gate.reset()
	e.sends.reset()
	e.logs.n.Store(0)
	streamBefore := e.stack.Stream.Invocations()
	cpu0, moto0 := cpuNow(e.moto.PID())
	stopProfile, err := startProfile(rc.profile)
	if err != nil {
		return res, err
	}
	start := time.Now()
	var id string
	pprof.Do(ctx, pprof.Labels("part", partDriver), func(ctx context.Context) {
		id, err = e.stack.Launch(ctx, e.client, campaignFile, audience)
		if err == nil {
			res.Ended, err = e.waitEnded(ctx, id, rc.recipients, rc.limit)
		}
	})
	res.Seconds = time.Since(start).Seconds()
	stopProfile()
	cpu1, moto1 := cpuNow(e.moto.PID())
	switch {
	case errors.Is(err, errUnfinished) && res.Ended > 0:
		// A slow machine should still get figures: they cover the
		// journeys that ended, and the table says so.
		res.Partial = err.Error()
		fmt.Fprintf(os.Stderr, "  %s; reading the figures of those\n", err)
	case err != nil:
		return res, err
	default:
		fmt.Fprintf(os.Stderr, "  all journeys ended in %.1f s; reading the figures\n", res.Seconds)
	}
	res.RecipientsPerS = float64(res.Ended) / res.Seconds

	if err := e.figures(ctx, &res, id, rc, e.stack.Stream.Invocations()-streamBefore); err != nil {
		return res, err
	}
	return res, e.cpu(&res, rc.profile, cpu1-cpu0, moto1-moto0)
}

// figures reads the run's AWS work, latency and outcomes.
func (e *env) figures(ctx context.Context, res *result, id string, rc runConfig, streamCalls int64) error {
	db := dynamodb.NewFromConfig(e.direct)
	final, err := meter.FinalItems(ctx, db, e.stack.Config.Table)
	if err != nil {
		return err
	}
	rep := e.meter.Report(final)
	ex, err := sampleExecutions(ctx, sfn.NewFromConfig(e.direct), e.stack.SFNArn, rc.seed)
	if err != nil {
		return err
	}
	counts := map[string]int64{"status-processor": streamCalls}
	fns, gbs := functions(rep.Calls, counts)

	n := float64(res.Ended)
	invocations := 0.0
	for _, f := range fns {
		invocations += float64(f.Count)
	}
	res.Functions = fns
	res.Paths = ex.paths
	res.Work = results.Work{
		Transitions: ex.transitions, WRU: rep.WRU / n, RRU: rep.RRU / n,
		SQSRequests:       float64(rep.SQSRequests)/n + ex.sqsSends,
		LambdaInvocations: invocations / n, LambdaGBSeconds: gbs / n,
		S3Writes: float64(rep.S3Writes) / n, S3Reads: float64(rep.S3Reads) / n,
		SecretsCalls: float64(rep.SecretsCalls) / n,
		APIRequests:  float64(rep.Calls["api"].Count) / n,
		LogBytes:     float64(e.logs.n.Load()) / n, StateMachineLogBytes: ex.logBytes,
	}
	res.Work.WRUByOp = map[string]float64{}
	for op, u := range rep.WRUByOp {
		res.Work.WRUByOp[op] = u / n
	}
	res.Moto = results.Moto{Requests: rep.Requests, MeanMS: rep.MeanMS, ByService: rep.ByService,
		IdlePolls: rep.IdlePolls, Operations: rep.Ops, Seconds: rep.OpSeconds}
	e.gate.mu.Lock()
	hooks := append([]arrival(nil), e.gate.hooks...)
	e.gate.mu.Unlock()
	res.Fallback = fallbackLatency(hooks, e.sends)

	store := dynamo.New(db, e.stack.Config.Table)
	c, err := store.Counters(ctx, id)
	if err != nil {
		return err
	}
	res.Outcomes = map[string]int64{}
	for k, v := range c[dynamo.Scope] {
		if strings.HasPrefix(k, dynamo.Reached+"_") || strings.HasPrefix(k, dynamo.Unreached+"_") {
			res.Outcomes[k] = v
		}
	}
	return nil
}

// cpu splits the process's CPU by the profile's shares and adds
// moto's, read apart.
func (e *env) cpu(res *result, profile string, self, moto time.Duration) error {
	n := float64(res.Ended)
	res.CPU = results.CPU{ProcessMS: ms(self), MotoMS: ms(moto), MotoPerRecipientMS: ms(moto) / n}
	if profile == "" {
		return nil
	}
	s, err := profileShares(profile)
	if err != nil {
		return err
	}
	labelled := s.ours + s.fakes + s.measuring
	if labelled == 0 {
		return fmt.Errorf("the CPU profile holds no labelled samples")
	}
	part := func(d time.Duration) float64 { return ms(self) * float64(d) / float64(labelled) }
	res.CPU.OursMS, res.CPU.FakesMS, res.CPU.MeterMS = part(s.ours), part(s.fakes), part(s.measuring)
	res.CPU.OursPerRecipientMS = res.CPU.OursMS / n
	res.CPU.Profile = profile
	res.CPU.Top = topOurs(profile, 15)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// audienceCSV is n made-up Indian mobile numbers with the columns the
// demo campaign's templates use.
func audienceCSV(n int) []byte {
	names := []string{"Asha", "Neha", "Pooja", "Lata", "Ravi", "Arjun", "Meera", "Kiran"}
	var b bytes.Buffer
	b.WriteString("phone,name,order\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "+9199%08d,%s,ORD-%d\n", i+1, names[i%len(names)], 10000+i)
	}
	return b.Bytes()
}
