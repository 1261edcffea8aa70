package campaign

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/channel"
)

// good returns a valid three-channel campaign that tests spoil one
// field at a time.
func good() Campaign {
	return Campaign{
		Name: "Order shipped",
		Channels: []Step{
			{Channel: channel.WhatsApp, WhatsApp: &WhatsApp{
				Template:   "order_shipped",
				Language:   "en_US",
				Parameters: []string{"{{name}}", "{{order}}"},
			}},
			{Channel: channel.RCS, RCS: &RCS{
				Text: "Hi {{name}}, order {{order}} has shipped.",
				Suggestions: []Suggestion{
					{Text: "Track", PostbackData: "track:{{order}}"},
					{Text: "Call us", PostbackData: "call", Dial: "+919900000099"},
				},
			}},
			{Channel: channel.SMS, SMS: &SMS{
				TemplateID:        "65e0000000000000000000a1",
				DLTTemplateID:     "1107160000000000001",
				DLTText:           "Dear {#var#}, order {#var#} has shipped. -ACME",
				Header:            "ACMEIN",
				PrincipalEntityID: "1101160000000000001",
				Variables:         []string{"{{name}}", "{{order}}"},
				Category:          "transactional",
			}},
		},
		Audience: Audience{Recipients: []Row{{
			Phone: "+919900000001",
			Vars:  map[string]string{"name": "Asha", "order": "ORD-1042"},
		}}},
	}
}

func (c *Campaign) wa() *WhatsApp { return c.Channels[0].WhatsApp }
func (c *Campaign) rcs() *RCS     { return c.Channels[1].RCS }
func (c *Campaign) sms() *SMS     { return c.Channels[2].SMS }

// problems validates c and returns its problems, failing on an error
// of another type.
func problems(t *testing.T, c Campaign) Problems {
	t.Helper()
	err := c.Validate()
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Validate() error is %T, want Problems", err)
	}
	return ps
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := good()
	c.Name = ""
	c.Channels[1] = Step{Channel: channel.WhatsApp, WhatsApp: c.wa()}
	c.sms().DLTTemplateID = ""
	c.sms().Header = "ACME"
	c.Audience = Audience{}

	got := problems(t, c)
	want := Problems{
		{"name", "required"},
		{"channels[1].channel", "repeats whatsapp"},
		{"channels[2].sms.dltTemplateId", "required"},
		{"channels[2].sms.header", "must be 6 characters"},
		{"audience", "recipients or s3Key required"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	msg := c.Validate().Error()
	for _, p := range want {
		if !strings.Contains(msg, p.String()) {
			t.Errorf("Error() = %q, missing %q", msg, p)
		}
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Campaign)
	}{
		{"defaults left out", func(c *Campaign) {}},
		{"defaults filled in", func(c *Campaign) { c.Defaults() }},
		{"any channel order", func(c *Campaign) {
			ch := c.Channels
			c.Channels = []Step{ch[2], ch[0], ch[1]}
		}},
		{"retries on one channel", func(c *Campaign) {
			c.Mode = Retries
			c.Channels = c.Channels[2:]
			c.Retry = &Retry{Count: 3, IntervalSeconds: MinInterval}
		}},
		{"audience by upload", func(c *Campaign) {
			c.Audience = Audience{S3Key: "uploads/t1/c1.csv"}
		}},
		{"rich card", func(c *Campaign) {
			c.rcs().Text = ""
			c.rcs().Card = &Card{Title: "Shipped", ImageURL: "https://cdn.example.invalid/a.png"}
			c.rcs().TrafficType = "TRANSACTION"
		}},
		{"promotional numeric header", func(c *Campaign) {
			c.sms().Category = "promotional"
			c.sms().Header = "123456"
		}},
		{"timeouts at the bounds", func(c *Campaign) {
			c.Channels[0].TimeoutSeconds = MinTimeout
			c.Channels[1].TimeoutSeconds = MaxTimeout
		}},
		{"template without variables", func(c *Campaign) {
			c.sms().DLTText = "Your order has shipped. -ACME"
			c.sms().Variables = nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidateCampaign(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Campaign)
		want Problems
	}{
		{"blank name", func(c *Campaign) { c.Name = "  " },
			Problems{{"name", "required"}}},
		{"long name", func(c *Campaign) { c.Name = strings.Repeat("n", MaxName+1) },
			Problems{{"name", "at most 128 characters"}}},
		{"lower-case region", func(c *Campaign) { c.Region = "in" },
			Problems{{"region", "must be an ISO 3166 alpha-2 code such as IN"}}},
		{"unknown region", func(c *Campaign) { c.Region = "ZZ" },
			Problems{{"region", "must be an ISO 3166 alpha-2 code such as IN"}}},
		{"unknown mode", func(c *Campaign) { c.Mode = "both" },
			Problems{{"mode", "must be fallback or retries"}}},
		{"retry in fallback mode", func(c *Campaign) {
			c.Retry = &Retry{Count: 1, IntervalSeconds: 60}
		}, Problems{{"retry", "not allowed in fallback mode"}}},
		{"retries on three channels without policy", func(c *Campaign) {
			c.Mode = Retries
		}, Problems{
			{"channels", "retries mode takes exactly one channel"},
			{"retry", "required in retries mode"},
		}},
		{"retry too few too soon", func(c *Campaign) {
			c.Mode, c.Channels = Retries, c.Channels[:1]
			c.Retry = &Retry{Count: 0, IntervalSeconds: 59}
		}, Problems{
			{"retry.count", "must be 1 to 3"},
			{"retry.intervalSeconds", "must be 60 to 604800 seconds"},
		}},
		{"retry too many too late", func(c *Campaign) {
			c.Mode, c.Channels = Retries, c.Channels[:1]
			c.Retry = &Retry{Count: 4, IntervalSeconds: MaxInterval + 1}
		}, Problems{
			{"retry.count", "must be 1 to 3"},
			{"retry.intervalSeconds", "must be 60 to 604800 seconds"},
		}},
		{"inline and upload", func(c *Campaign) { c.Audience.S3Key = "a.csv" },
			Problems{{"audience", "recipients and s3Key are exclusive"}}},
		{"too many inline rows", func(c *Campaign) {
			c.Audience.Recipients = make([]Row, MaxRecipients+1)
		}, Problems{{"audience.recipients", "at most 10000 rows; upload a CSV for more"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			if diff := cmp.Diff(tt.want, problems(t, c)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateChannels(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Campaign)
		want Problems
	}{
		{"none", func(c *Campaign) { c.Channels = nil },
			Problems{{"channels", "at least one channel required"}}},
		{"repeated", func(c *Campaign) { c.Channels[2] = c.Channels[1] },
			Problems{{"channels[2].channel", "repeats rcs"}}},
		{"more steps than channels", func(c *Campaign) { c.Channels = append(c.Channels, c.Channels[1]) },
			Problems{{"channels", "at most 3 steps, one per channel"}}},
		{"unknown", func(c *Campaign) { c.Channels[1].Channel = "email" },
			Problems{{"channels[1].channel", "must be whatsapp, rcs or sms"}}},
		{"unnamed", func(c *Campaign) { c.Channels[1].Channel = "" },
			Problems{{"channels[1].channel", "required"}}},
		{"another channel's content", func(c *Campaign) {
			c.Channels[0].WhatsApp, c.Channels[0].SMS = nil, c.sms()
		}, Problems{
			{"channels[0].whatsapp", "required"},
			{"channels[0].sms", "not allowed on a whatsapp step"},
		}},
		{"extra content", func(c *Campaign) { c.Channels[1].WhatsApp = c.wa() },
			Problems{{"channels[1].whatsapp", "not allowed on a rcs step"}}},
		{"negative timeout", func(c *Campaign) { c.Channels[0].TimeoutSeconds = -1 },
			Problems{{"channels[0].timeoutSeconds", "must be 1 to 259200 seconds"}}},
		{"timeout over three days", func(c *Campaign) {
			c.Channels[2].TimeoutSeconds = MaxTimeout + 1
		}, Problems{{"channels[2].timeoutSeconds", "must be 1 to 259200 seconds"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			if diff := cmp.Diff(tt.want, problems(t, c)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateWhatsAppAndRCS(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Campaign)
		want Problems
	}{
		{"whatsapp template and language", func(c *Campaign) {
			c.wa().Template, c.wa().Language = "", ""
		}, Problems{
			{"channels[0].whatsapp.template", "required"},
			{"channels[0].whatsapp.language", "required"},
		}},
		{"whatsapp unclosed parameter", func(c *Campaign) {
			c.wa().Parameters[1] = "{{order"
		}, Problems{{"channels[0].whatsapp.parameters[1]", "malformed {{column}} placeholder"}}},
		{"whatsapp category", func(c *Campaign) { c.wa().Category = "promo" },
			Problems{{"channels[0].whatsapp.category", "must be utility, marketing or authentication"}}},
		{"rcs empty", func(c *Campaign) { c.rcs().Text = "" },
			Problems{{"channels[1].rcs", "text or card required"}}},
		{"rcs text and card", func(c *Campaign) { c.rcs().Card = &Card{Title: "t"} },
			Problems{{"channels[1].rcs", "text and card are exclusive"}}},
		{"rcs long text", func(c *Campaign) { c.rcs().Text = strings.Repeat("é", MaxRCSText+1) },
			Problems{{"channels[1].rcs.text", "at most 3072 characters"}}},
		{"rcs too many suggestions", func(c *Campaign) {
			c.rcs().Suggestions = make([]Suggestion, MaxSuggestions+1)
			for i := range c.rcs().Suggestions {
				c.rcs().Suggestions[i] = Suggestion{Text: "Yes", PostbackData: "yes"}
			}
		}, Problems{{"channels[1].rcs.suggestions", "at most 11"}}},
		{"rcs card suggestions", func(c *Campaign) {
			s := c.rcs().Suggestions[0]
			c.rcs().Text, c.rcs().Card = "", &Card{Description: "d"}
			c.rcs().Suggestions = []Suggestion{s, s, s, s, s}
		}, Problems{{"channels[1].rcs.suggestions", "at most 4"}}},
		{"rcs card image not a web URL", func(c *Campaign) {
			c.rcs().Text, c.rcs().Card = "", &Card{ImageURL: "ftp://x/a.png"}
		}, Problems{{"channels[1].rcs.card.imageUrl", "must be an http or https URL"}}},
		{"rcs card with nothing", func(c *Campaign) {
			c.rcs().Text, c.rcs().Card = "", &Card{}
		}, Problems{{"channels[1].rcs.card", "title, description or imageUrl required"}}},
		{"suggestion text and postback", func(c *Campaign) {
			c.rcs().Suggestions[0] = Suggestion{Text: strings.Repeat("s", MaxSuggestionText+1)}
		}, Problems{
			{"channels[1].rcs.suggestions[0].text", "at most 25 characters"},
			{"channels[1].rcs.suggestions[0].postbackData", "required"},
		}},
		{"long postback", func(c *Campaign) {
			c.rcs().Suggestions[0].PostbackData = strings.Repeat("p", MaxPostbackData+1)
		}, Problems{{"channels[1].rcs.suggestions[0].postbackData", "at most 2048 characters"}}},
		{"url and dial", func(c *Campaign) {
			c.rcs().Suggestions[1].URL = "https://example.invalid"
		}, Problems{{"channels[1].rcs.suggestions[1]", "url and dial are exclusive"}}},
		{"bad url", func(c *Campaign) { c.rcs().Suggestions[0].URL = "example.invalid" },
			Problems{{"channels[1].rcs.suggestions[0].url", "must be an http or https URL"}}},
		{"bad dial", func(c *Campaign) { c.rcs().Suggestions[1].Dial = "9900000099" },
			Problems{{"channels[1].rcs.suggestions[1].dial",
				"must be an E.164 number such as +919900000001"}}},
		{"traffic type", func(c *Campaign) { c.rcs().TrafficType = "transaction" },
			Problems{{"channels[1].rcs.trafficType", "must be one of AUTHENTICATION, TRANSACTION, " +
				"PROMOTION, SERVICEREQUEST, ACKNOWLEDGEMENT"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(&c)
			if diff := cmp.Diff(tt.want, problems(t, c)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateSMS(t *testing.T) {
	tests := []struct {
		name string
		edit func(s *SMS)
		want Problems
	}{
		{"everything missing", func(s *SMS) { *s = SMS{} }, Problems{
			{"channels[2].sms.templateId", "required"},
			{"channels[2].sms.dltTemplateId", "required"},
			{"channels[2].sms.principalEntityId", "required"},
			{"channels[2].sms.category", "required"},
			{"channels[2].sms.header", "required"},
			{"channels[2].sms.dltText", "required"},
		}},
		{"ids not numeric", func(s *SMS) {
			s.DLTTemplateID, s.PrincipalEntityID = "1107-16", "PE1101"
		}, Problems{
			{"channels[2].sms.dltTemplateId", "must be digits only"},
			{"channels[2].sms.principalEntityId", "must be digits only"},
		}},
		{"other provider", func(s *SMS) { s.Provider = "gupshup" },
			Problems{{"channels[2].sms.provider", "must be msg91"}}},
		{"unknown category", func(s *SMS) { s.Category = "marketing" },
			Problems{{"channels[2].sms.category", "must be one of transactional, " +
				"service-implicit, service-explicit, promotional"}}},
		{"seven-letter header", func(s *SMS) { s.Header = "ACMEIND" },
			Problems{{"channels[2].sms.header", "must be 6 characters"}}},
		{"digits in a service header", func(s *SMS) {
			s.Category, s.Header = "service-implicit", "ACME01"
		}, Problems{{"channels[2].sms.header", "must be letters only"}}},
		{"symbol in a promotional header", func(s *SMS) {
			s.Category, s.Header = "promotional", "ACME-1"
		}, Problems{{"channels[2].sms.header", "must be letters or digits"}}},
		{"misspelt slot", func(s *SMS) { s.DLTText = "Dear {#var1#}, order {#var#}" },
			Problems{{"channels[2].sms.dltText", "placeholders must be written {#var#}"}}},
		{"more slots than variables", func(s *SMS) { s.Variables = s.Variables[:1] },
			Problems{{"channels[2].sms.variables", "1 given for 2 {#var#} in dltText"}}},
		{"malformed variable", func(s *SMS) { s.Variables[0] = "{{ }}" },
			Problems{{"channels[2].sms.variables[0]", "malformed {{column}} placeholder"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.edit(c.sms())
			if diff := cmp.Diff(tt.want, problems(t, c)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := good()
	c.Channels[1].TimeoutSeconds = 90
	c.Defaults()

	want := good()
	want.Region, want.Mode = "IN", Fallback
	want.Channels[0].TimeoutSeconds = WhatsAppTimeout
	want.Channels[1].TimeoutSeconds = 90
	want.Channels[2].TimeoutSeconds = SMSTimeout
	want.sms().Provider = "msg91"
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("after Defaults (-want +got):\n%s", diff)
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name string
		step Step
		want int
	}{
		{"whatsapp default", Step{Channel: channel.WhatsApp}, 600},
		{"rcs default", Step{Channel: channel.RCS}, 600},
		{"sms default", Step{Channel: channel.SMS}, 1800},
		{"own timeout wins", Step{Channel: channel.SMS, TimeoutSeconds: 45}, 45},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.step.Timeout(); got != tt.want {
				t.Errorf("Timeout() = %d, want %d", got, tt.want)
			}
		})
	}
}
