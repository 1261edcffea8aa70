package phone

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		mobileOnly bool
		want       Number
		wantErr    error
	}{
		{name: "plus and spaces", raw: "+91 99000 00001", want: "+919900000001"},
		{name: "trunk zero", raw: "09900000001", want: "+919900000001"},
		{name: "ten digits", raw: "9900000001", want: "+919900000001"},
		{name: "dashes", raw: "+91-99000-00001", want: "+919900000001"},
		{name: "trunk zero then country code", raw: "0919900000001", want: "+919900000001"},
		{name: "international prefix", raw: "00919900000001", want: "+919900000001"},
		{name: "country code without plus", raw: "919900000001", want: "+919900000001"},
		{name: "ten digits that begin with 91", raw: "9191990000", want: "+919191990000"},
		{name: "no-break space inside", raw: "99000\u00a000001", want: "+919900000001"},
		{name: "brackets and dots", raw: "(+91) 99000.00001", want: "+919900000001"},
		{name: "too short", raw: "990000001", wantErr: ErrNotANumber},
		{name: "empty", raw: "  ", wantErr: ErrEmpty},
		{name: "letters", raw: "call me", wantErr: ErrNotANumber},
		{name: "other region", raw: "+1 415 555 2671", wantErr: ErrWrongRegion},
		{name: "landline allowed", raw: "011 2345 6789", want: "+911123456789"},
		{name: "landline refused for mobile", raw: "011 2345 6789", mobileOnly: true, wantErr: ErrNotMobile},
		{name: "mobile for mobile", raw: "9900000001", mobileOnly: true, want: "+919900000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.raw, "IN", tt.mobileOnly)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Normalize(%q) error = %v, want %v", tt.raw, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestMaskedInLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("send", "phone", Number("+919900000001"))

	if strings.Contains(buf.String(), "9900000001") {
		t.Fatalf("log holds the full number: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"phone":"+9199******01"`) {
		t.Errorf("log = %s, want the masked form +9199******01", buf.String())
	}
}

func TestMask(t *testing.T) {
	tests := map[string]string{
		"+919900000001": "+9199******01",
		"919900000001":  "9199******01",
		"12345":         "*****",
	}
	for in, want := range tests {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}
