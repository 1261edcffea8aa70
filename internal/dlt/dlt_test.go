package dlt

import (
	"errors"
	"strings"
	"testing"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/channel"
)

// shipped returns a valid transactional template with two slots.
func shipped() campaign.SMS {
	return campaign.SMS{
		TemplateID:        "65e0000000000000000000a1",
		DLTTemplateID:     "1107160000000000001",
		DLTText:           "Dear {#var#}, order {#var#} has shipped. -ACME",
		Header:            "ACMEIN",
		PrincipalEntityID: "1101160000000000001",
		Variables:         []string{"{{name}}", "{{order}}"},
		Category:          Transactional,
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(s *campaign.SMS)
		values  []string
		want    string
		wantErr error
	}{
		{"renders in order", nil, []string{"Asha", "ORD-1042"},
			"Dear Asha, order ORD-1042 has shipped. -ACME", nil},
		{"value of 30 characters", nil, []string{strings.Repeat("ा", 30), "1"},
			"Dear " + strings.Repeat("ा", 30) + ", order 1 has shipped. -ACME", nil},
		{"value that looks like a slot", nil, []string{"{#var#}", "x"},
			"Dear {#var#}, order x has shipped. -ACME", nil},
		{"no slots", func(s *campaign.SMS) { s.DLTText = "Hello. -ACME" }, nil,
			"Hello. -ACME", nil},
		{"promotional numeric header", func(s *campaign.SMS) {
			s.Category, s.Header = Promotional, "600001"
		}, []string{"a", "b"}, "Dear a, order b has shipped. -ACME", nil},
		{"missing entity", func(s *campaign.SMS) { s.PrincipalEntityID = "" },
			[]string{"a", "b"}, "", ErrEntity},
		{"entity not numeric", func(s *campaign.SMS) { s.PrincipalEntityID = "PE-1" },
			[]string{"a", "b"}, "", ErrEntity},
		{"missing template id", func(s *campaign.SMS) { s.DLTTemplateID = "" },
			[]string{"a", "b"}, "", ErrTemplate},
		{"missing text", func(s *campaign.SMS) { s.DLTText = "" },
			nil, "", ErrText},
		{"unknown category", func(s *campaign.SMS) { s.Category = "" },
			[]string{"a", "b"}, "", ErrCategory},
		{"short header", func(s *campaign.SMS) { s.Header = "ACME" },
			[]string{"a", "b"}, "", ErrHeader},
		{"digits in transactional header", func(s *campaign.SMS) { s.Header = "ACME01" },
			[]string{"a", "b"}, "", ErrHeader},
		{"digits in service-explicit header", func(s *campaign.SMS) {
			s.Category, s.Header = ServiceExplicit, "600001"
		}, []string{"a", "b"}, "", ErrHeader},
		{"space in promotional header", func(s *campaign.SMS) {
			s.Category, s.Header = Promotional, "ACME 1"
		}, []string{"a", "b"}, "", ErrHeader},
		{"too few values", nil, []string{"a"}, "", ErrValueCount},
		{"too many values", nil, []string{"a", "b", "c"}, "", ErrValueCount},
		{"value of 31 characters", nil, []string{strings.Repeat("x", 31), "b"},
			"", ErrValueLong},
		{"newline in value", nil, []string{"a\nb", "b"}, "", ErrValueChar},
		{"carriage return in value", nil, []string{"a", "b\r"}, "", ErrValueChar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sms := shipped()
			if tt.edit != nil {
				tt.edit(&sms)
			}
			got, err := Check(sms, tt.values)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorsLeaveValuesOut(t *testing.T) {
	secret := "Asha Verma, 12 MG Road, Pune 411001"
	_, err := Check(shipped(), []string{secret, "b"})
	if err == nil || strings.Contains(err.Error(), "Asha") {
		t.Errorf("Check error = %v, want one without the value", err)
	}
}

// TestCategoriesAgreeWithCampaign keeps campaign validation, which
// cannot import this package, accepting every category Check does.
func TestCategoriesAgreeWithCampaign(t *testing.T) {
	for _, cat := range Categories {
		t.Run(cat, func(t *testing.T) {
			sms := shipped()
			sms.Category = cat
			c := campaign.Campaign{
				Name:     "n",
				Channels: []campaign.Step{{Channel: channel.SMS, SMS: &sms}},
				Audience: campaign.Audience{S3Key: "a.csv"},
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
			if _, err := Check(sms, []string{"a", "b"}); err != nil {
				t.Errorf("Check error = %v, want nil", err)
			}
		})
	}
}

// FuzzCheck checks that Check never panics and that a rendered text
// is the template with each slot swapped for its value.
func FuzzCheck(f *testing.F) {
	f.Add("Dear {#var#}, order {#var#} has shipped.", "Asha|ORD-1042")
	f.Add("{#var#}{#var#}", "|")
	f.Add("No slots", "")
	f.Add("{#var#", "a")
	f.Add("{#var#}#var#}", "{#var#}|x")
	f.Add("OTP {#var#}", "12\n34")
	f.Add("é {#var#} ü", strings.Repeat("ा", 31))
	f.Fuzz(func(t *testing.T, text, joined string) {
		sms := shipped()
		sms.DLTText = text
		values := strings.Split(joined, "|")
		if joined == "" {
			values = nil
		}
		got, err := Check(sms, values)
		if err != nil {
			if got != "" {
				t.Fatalf("Check = %q with error %v; want empty", got, err)
			}
			return
		}
		slots, size := strings.Count(text, Var), len(text)
		for _, v := range values {
			size += len(v) - len(Var)
		}
		if slots != len(values) || len(got) != size {
			t.Fatalf("Check(%q, %q) = %q: %d slots, %d bytes; want %d values, %d bytes",
				text, values, got, slots, len(got), len(values), size)
		}
	})
}
