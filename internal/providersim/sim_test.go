package providersim

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestEscapeJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ascii unchanged", `{"a":"b c"}`, `{"a":"b c"}`},
		{"latin letter", `{"t":"café"}`, `{"t":"caf\u00e9"}`},
		{"emoji as a surrogate pair", `{"t":"🚀"}`, `{"t":"\ud83d\ude80"}`},
		{"slash", `{"h":"/docs/x"}`, `{"h":"\/docs\/x"}`},
		{"escaped backslash before a slash", `{"p":"a\\/b"}`, `{"p":"a\\\/b"}`},
		{"devanagari", `{"t":"नमस्ते"}`, `{"t":"\u0928\u092e\u0938\u094d\u0924\u0947"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(escapeJSON([]byte(tt.in)))
			if got != tt.want {
				t.Errorf("escapeJSON(%s) = %s, want %s", tt.in, got, tt.want)
			}
			var a, b any
			if err := json.Unmarshal([]byte(tt.in), &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(got), &b); err != nil {
				t.Fatalf("escaped JSON does not decode: %v", err)
			}
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("escaped JSON decodes to %v, want %v", b, a)
			}
		})
	}
}

func TestScriptIsReproducible(t *testing.T) {
	mix := []Share{{Delivered, 70}, {Read, 20}, {Silent, 10}}
	a := Script{Mix: mix, Seed: 42}
	b := Script{Mix: mix, Seed: 42}
	other := Script{Mix: mix, Seed: 43}
	counts := map[Outcome]int{}
	differ := 0
	for i := range 10_000 {
		n := fmt.Sprintf("+9199%08d", i)
		if a.For(n) != b.For(n) {
			t.Fatalf("same seed gives %s two outcomes", n)
		}
		if a.For(n) != other.For(n) {
			differ++
		}
		counts[a.For(n)]++
	}
	for _, sh := range mix {
		want := sh.Weight * 100
		if got := counts[sh.Outcome]; got < want*8/10 || got > want*12/10 {
			t.Errorf("%s drawn %d times in 10000, want about %d", sh.Outcome, got, want)
		}
	}
	if differ == 0 {
		t.Error("another seed gives the same outcomes, want a different draw")
	}
}

func TestScriptNamedNumbersWin(t *testing.T) {
	s := Script{Numbers: map[string]Outcome{"+919900000001": NDNC},
		Mix: []Share{{Silent, 1}}}
	tests := []struct {
		name   string
		script Script
		number string
		want   Outcome
	}{
		{"named number", s, "+919900000001", NDNC},
		{"other number from the mix", s, "+919900000002", Silent},
		{"empty script delivers", Script{}, "+919900000003", Delivered},
		{"zero weights deliver", Script{Mix: []Share{{Silent, 0}}}, "+919900000004", Delivered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.script.For(tt.number); got != tt.want {
				t.Errorf("For(%s) = %s, want %s", tt.number, got, tt.want)
			}
		})
	}
}

func TestOutcomeSplit(t *testing.T) {
	tests := []struct {
		o              Outcome
		kind, wantCode string
	}{
		{NotOnWhatsApp, "fail", "131026"},
		{TemplatePaused, "error", "132015"},
		{NotRCSCapable, "error", "404"},
		{NDNC, "fail", "9"},
		{Read, "read", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.o), func(t *testing.T) {
			kind, code := tt.o.split()
			if kind != tt.kind || code != tt.wantCode {
				t.Errorf("split() = %q, %q; want %q, %q", kind, code, tt.kind, tt.wantCode)
			}
		})
	}
}
