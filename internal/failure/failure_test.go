package failure

import "testing"

func TestErrorNameRoundTrip(t *testing.T) {
	for _, c := range Classes {
		got, err := FromErrorName(c.ErrorName())
		if err != nil || got != c {
			t.Errorf("FromErrorName(%q) = %q, %v; want %q", c.ErrorName(), got, err, c)
		}
	}
	if _, err := FromErrorName("States.Timeout"); err == nil {
		t.Error("FromErrorName(States.Timeout) succeeded, want an error")
	}
}

func TestWhatsApp(t *testing.T) {
	tests := []struct {
		name string
		code int
		want Class
	}{
		{"not on WhatsApp falls back", 131026, FallbackNow},
		{"marketing limit falls back", 131049, FallbackNow},
		{"throughput is retried", 130429, Retry},
		{"pair rate limit is retried", 131056, Retry},
		{"template paused is config", 132015, ConfigError},
		{"expired token is config", 190, ConfigError},
		{"permission range is config", 250, ConfigError},
		{"same number is final", 131021, Final},
		{"unknown code falls back", 999999, FallbackNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WhatsApp(tt.code).Class; got != tt.want {
				t.Errorf("WhatsApp(%d) = %q, want %q", tt.code, got, tt.want)
			}
		})
	}
}

func TestRBMAndMSG91(t *testing.T) {
	tests := []struct {
		name string
		got  Class
		want Class
	}{
		{"RBM 404 falls back", RBM(404).Class, FallbackNow},
		{"RBM 403 is config", RBM(403).Class, ConfigError},
		{"RBM 503 is retried", RBM(503).Class, Retry},
		{"RBM 429 is retried", RBM(429).Class, Retry},
		{"MSG91 NDNC fails", MSG91Report("9").Class, FallbackNow},
		{"MSG91 rejected is config", MSG91Report("16").Class, ConfigError},
		{"MSG91 unknown code fails", MSG91Report("26").Class, FallbackNow},
		{"MSG91 418 is config", MSG91Send(400, "418").Class, ConfigError},
		{"MSG91 500 is retried", MSG91Send(500, "").Class, Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
