// Command devstack is `make run`: it starts Cascade's local stack on
// 127.0.0.1 (moto's server, the event-source runner, the gateway and
// the provider fakes), connects the demo tenant's channels, runs the
// demo campaign from events/, prints the unified statistics and checks
// the invariants, then keeps serving until Ctrl-C. With -demo=false it
// only serves, and -info FILE writes the API's URL and a dev token for
// a program that drives the stack (make fuzz runs schemathesis so).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cascade-oss/cascade/internal/devstack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run() error {
	campaignFile := flag.String("campaign", "events/demo-campaign.json", "campaign to run")
	audienceFile := flag.String("audience", "events/demo-audience.csv", "audience CSV to upload")
	seed := flag.Int64("seed", 1, "seed of the provider fakes' outcomes")
	serve := flag.Bool("serve", true, "keep serving after the demo until Ctrl-C")
	runDemo := flag.Bool("demo", true, "run the demo campaign; -demo=false only serves")
	info := flag.String("info", "", "write the API's URL and a dev token, as JSON, to this file once serving")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logDir, err := os.MkdirTemp("", "cascade-devstack-")
	if err != nil {
		return err
	}
	logs, err := os.Create(filepath.Join(logDir, "functions.log"))
	if err != nil {
		return err
	}
	defer logs.Close()
	motoLog, err := os.Create(filepath.Join(logDir, "moto.log"))
	if err != nil {
		return err
	}
	defer motoLog.Close()

	fmt.Println("Starting the local stack (moto, event sources, gateway, provider fakes)…")
	st, err := devstack.Start(ctx, devstack.Options{Log: logs, MotoLog: motoLog, Seed: *seed,
		Fakes: devstack.DemoFakes()})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("\nStopping the local stack…")
		st.StopExecutions(context.Background())
		st.Stop()
	}()
	fmt.Printf("  moto %s, gateway %s, logs in %s\n", st.Endpoint, st.URL, logDir)

	// With or without the demo, the demo tenant's channels point at the
	// fakes, which then post their webhooks back: a campaign launched
	// by hand cascades as the demo's does.
	if err := st.ConnectChannels(ctx, &devstack.Client{URL: st.URL, Token: st.Token}); err != nil {
		return fmt.Errorf("connect channels: %w", err)
	}
	fmt.Println("  the demo tenant's WhatsApp, RCS and SMS channels are connected to the fakes")

	if *runDemo {
		if err := demo(ctx, st, *campaignFile, *audienceFile); err != nil {
			return err
		}
	}
	if !*serve {
		return nil
	}
	if *info != "" {
		if err := writeInfo(*info, st); err != nil {
			return err
		}
	}
	fmt.Printf("\nThe stack keeps serving. Try the API as the demo tenant:\n\n")
	fmt.Printf("  export CASCADE_API=%s\n  export CASCADE_TOKEN=%s\n", st.URL, st.Token)
	fmt.Printf("  curl -s -H \"Authorization: Bearer $CASCADE_TOKEN\" $CASCADE_API/v1/channels/whatsapp\n\n")
	fmt.Println("Press Ctrl-C to stop.")
	<-ctx.Done()
	return nil
}

// writeInfo tells a program driving the stack (make fuzz) where the
// API is and which token to send. The file appears whole or not at all.
func writeInfo(path string, st *devstack.Stack) error {
	b, err := json.Marshal(map[string]string{"url": st.URL, "token": st.Token, "tenant": st.Tenant})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write info: %w", err)
	}
	return os.Rename(tmp, path)
}

func demo(ctx context.Context, st *devstack.Stack, campaignFile, audienceFile string) error {
	c := &devstack.Client{URL: st.URL, Token: st.Token}
	audience, err := os.ReadFile(audienceFile)
	if err != nil {
		return err
	}
	id, err := st.Launch(ctx, c, campaignFile, audience)
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	fmt.Printf("\nLaunched campaign %s from %s with %s\n", id, campaignFile, audienceFile)
	started := time.Now()
	s, err := st.Wait(ctx, c, id, os.Stdout, 15*time.Minute)
	if err != nil {
		return err
	}
	fmt.Printf("All journeys ended in %s.\n", time.Since(started).Round(time.Second))
	devstack.Print(os.Stdout, s)

	order := []string{}
	for _, ch := range s.Channels {
		order = append(order, ch.Channel)
	}
	if err := st.Check(ctx, id, order); err != nil {
		fmt.Println("\nInvariants: BROKEN")
		return err
	}
	fmt.Println("\nInvariants hold: every recipient has one outcome, counters equal the recount,")
	fmt.Println("each channel's attempts equal the attempts that moved on from the one before,")
	fmt.Println("and each delivery before the last step reached someone there or came after fallback.")

	fmt.Println("\nReports (links expire in 15 minutes):")
	for _, kind := range []string{"journey", "whatsapp"} {
		link, err := st.Report(ctx, c, id, kind, time.Minute)
		if err != nil {
			return err
		}
		fmt.Printf("  %-8s curl -s '%s'\n", kind, link)
	}
	return errors.Join(ctx.Err())
}
