package devstack

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cascade-oss/cascade/internal/providersim"
)

// Credentials the demo tenant connects with; the fakes demand them.
// They are made up and work nowhere else.
const (
	FakePhoneNumberID = "200000000000001"
	FakeWhatsAppToken = "EAAG-FAKE-DEVSTACK-TOKEN"
	FakeAppSecret     = "fake-app-secret-devstack"
	FakeVerifyToken   = "fake-verify-token"
	FakeAgentID       = "cascade_demo_agent"
	FakeRBMToken      = "ya29.FAKE-DEVSTACK"
	FakeClientToken   = "FAKECLIENTTOKEN01"
	FakeAuthKey       = "999999AFAKEKEY00000000P1"
)

// FakeOptions shape the provider fakes: each channel's outcomes, and
// how their webhooks arrive.
type FakeOptions struct {
	// Mix and Numbers script each channel's outcomes, by channel name.
	Mix     map[string][]providersim.Share
	Numbers map[string]map[string]providersim.Outcome
	// Delay, LateDelay, Batch, Duplicate, Reorder and Early are the
	// fakes' webhook knobs (see providersim.Config).
	Delay     time.Duration
	LateDelay time.Duration
	Batch     int
	Duplicate bool
	Reorder   bool
	Early     bool
}

// DemoFakes is the outcome mix of make run: every path of the cascade
// happens, including a throughput limit, a paused template and late
// deliveries.
func DemoFakes() FakeOptions {
	wa := append([]providersim.Share{}, providersim.WhatsAppMix...)
	wa = append(wa,
		providersim.Share{Outcome: providersim.Throughput, Weight: 3},
		providersim.Share{Outcome: providersim.SyncError("132015"), Weight: 2})
	return FakeOptions{
		Mix: map[string][]providersim.Share{
			"whatsapp": wa, "rcs": providersim.RCSMix, "sms": providersim.SMSMix,
		},
		Delay:     150 * time.Millisecond,
		LateDelay: 40 * time.Second,
		Batch:     20,
	}
}

// Fakes are the three provider fakes, each on its own loopback port.
type Fakes struct {
	WhatsApp *providersim.WhatsApp
	RBM      *providersim.RBM
	MSG91    *providersim.MSG91

	WhatsAppURL, RBMURL, MSG91URL string

	servers []*http.Server
}

func startFakes(seed int64, o FakeOptions) (*Fakes, error) {
	base := func(ch string) providersim.Config {
		return providersim.Config{
			Script: providersim.Script{Numbers: o.Numbers[ch], Mix: o.Mix[ch], Seed: uint64(seed)},
			Delay:  o.Delay, LateDelay: o.LateDelay, Batch: o.Batch, BatchWindow: 50 * time.Millisecond,
			Duplicate: o.Duplicate, Reorder: o.Reorder, Early: o.Early,
			Concurrency: 8,
		}
	}
	f := &Fakes{}
	var err error
	f.WhatsApp, err = providersim.NewWhatsApp(providersim.WhatsAppConfig{Config: base("whatsapp"),
		Token: FakeWhatsAppToken, PhoneNumberID: FakePhoneNumberID, AppSecret: FakeAppSecret})
	if err != nil {
		return nil, fmt.Errorf("whatsapp fake: %w", err)
	}
	f.RBM, err = providersim.NewRBM(providersim.RBMConfig{Config: base("rcs"),
		Token: FakeRBMToken, AgentID: FakeAgentID, ClientToken: FakeClientToken})
	if err != nil {
		return nil, fmt.Errorf("rbm fake: %w", err)
	}
	f.MSG91, err = providersim.NewMSG91(providersim.MSG91Config{Config: base("sms"), AuthKey: FakeAuthKey})
	if err != nil {
		return nil, fmt.Errorf("msg91 fake: %w", err)
	}
	for _, s := range []struct {
		h   http.Handler
		url *string
	}{{f.WhatsApp, &f.WhatsAppURL}, {f.RBM, &f.RBMURL}, {f.MSG91, &f.MSG91URL}} {
		url, err := f.serve(s.h)
		if err != nil {
			f.Close()
			return nil, err
		}
		*s.url = url
	}
	return f, nil
}

func (f *Fakes) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for a fake: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	f.servers = append(f.servers, srv)
	// Serve ends with ErrServerClosed when Close stops it.
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// SetWebhook points a channel's fake at the webhook URL the API showed.
func (f *Fakes) SetWebhook(ch, url string) {
	switch ch {
	case "whatsapp":
		f.WhatsApp.SetWebhookURL(url)
	case "rcs":
		f.RBM.SetWebhookURL(url)
	case "sms":
		f.MSG91.SetWebhookURL(url)
	}
}

// Close stops the fakes' servers and their pending webhooks.
func (f *Fakes) Close() {
	for _, s := range f.servers {
		_ = s.Close()
	}
	if f.WhatsApp != nil {
		f.WhatsApp.Close()
	}
	if f.RBM != nil {
		f.RBM.Close()
	}
	if f.MSG91 != nil {
		f.MSG91.Close()
	}
}
