package campaign

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var asha = map[string]string{"name": "Asha", "order": "ORD-1042", "empty": ""}

func TestFill(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    string
		wantErr error
	}{
		{"no placeholders", "Your order shipped.", "Your order shipped.", nil},
		{"two columns", "Hi {{name}}, {{order}} shipped.", "Hi Asha, ORD-1042 shipped.", nil},
		{"spaces inside braces", "Hi {{ name }}", "Hi Asha", nil},
		{"column used twice", "{{name}}/{{name}}", "Asha/Asha", nil},
		{"empty value", "[{{empty}}]", "[]", nil},
		{"single braces left alone", "{name} }}", "{name} }}", nil},
		{"missing column", "Hi {{city}}", "", ErrMissingColumn},
		{"unclosed", "Hi {{name", "", ErrPlaceholder},
		{"no name", "Hi {{ }}", "", ErrPlaceholder},
		{"nested", "Hi {{a{{name}}}}", "", ErrPlaceholder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fill(tt.text, asha)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Fill(%q) error = %v, want %v", tt.text, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Fill(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestFillNamesMissingColumn(t *testing.T) {
	_, err := Fill("Hi {{city}}", asha)
	if err == nil || !strings.Contains(err.Error(), `"city"`) {
		t.Errorf("Fill error = %v, want one naming \"city\"", err)
	}
}

func TestValueIsNotRefilled(t *testing.T) {
	got, err := Fill("{{name}}", map[string]string{"name": "{{order}}"})
	if err != nil || got != "{{order}}" {
		t.Errorf("Fill = %q, %v; want the value as given", got, err)
	}
}

func TestCampaignColumns(t *testing.T) {
	c := good()
	c.rcs().Suggestions[0].URL = "https://example.invalid/t/{{ order }}?c={{city}}"
	want := []string{"city", "name", "order"}
	if diff := cmp.Diff(want, c.Columns()); diff != "" {
		t.Errorf("Columns() (-want +got):\n%s", diff)
	}
}

func TestChannelHelpers(t *testing.T) {
	c := good()
	params, err := c.wa().Params(asha)
	if err != nil {
		t.Fatalf("Params: %v", err)
	}
	if diff := cmp.Diff([]string{"Asha", "ORD-1042"}, params); diff != "" {
		t.Errorf("Params (-want +got):\n%s", diff)
	}

	values, err := c.sms().Values(asha)
	if err != nil {
		t.Fatalf("Values: %v", err)
	}
	if diff := cmp.Diff([]string{"Asha", "ORD-1042"}, values); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}

	_, err = c.wa().Params(map[string]string{"name": "Asha"})
	if !errors.Is(err, ErrMissingColumn) {
		t.Errorf("Params without order: error = %v, want ErrMissingColumn", err)
	}
	_, err = c.sms().Values(nil)
	if !errors.Is(err, ErrMissingColumn) {
		t.Errorf("Values without vars: error = %v, want ErrMissingColumn", err)
	}
}

func TestRCSRender(t *testing.T) {
	r := RCS{
		Card: &Card{Title: "{{order}} shipped", Description: "Hi {{name}}"},
		Suggestions: []Suggestion{{Text: "Track", PostbackData: "track:{{order}}",
			URL: "https://example.invalid/t/{{order}}"}},
		TrafficType: "TRANSACTION",
	}
	got, err := r.Render(asha)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	want := RCS{
		Card: &Card{Title: "ORD-1042 shipped", Description: "Hi Asha"},
		Suggestions: []Suggestion{{Text: "Track", PostbackData: "track:ORD-1042",
			URL: "https://example.invalid/t/ORD-1042"}},
		TrafficType: "TRANSACTION",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
	if r.Card.Title != "{{order}} shipped" || r.Suggestions[0].PostbackData != "track:{{order}}" {
		t.Errorf("Render changed the stored message: %+v", r)
	}
}

func TestRCSRenderErrors(t *testing.T) {
	long := map[string]string{"name": strings.Repeat("a", MaxSuggestionText)}
	tests := []struct {
		name    string
		msg     RCS
		vars    map[string]string
		wantErr error
	}{
		{"missing column", RCS{Text: "Hi {{city}}"}, asha, ErrMissingColumn},
		{"filled suggestion too long",
			RCS{Text: "Hi", Suggestions: []Suggestion{{Text: "Hi {{name}}", PostbackData: "x"}}},
			long, ErrTooLong},
		{"filled text too long",
			RCS{Text: strings.Repeat("x", MaxRCSText-3) + "{{name}}"}, long, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.msg.Render(tt.vars); !errors.Is(err, tt.wantErr) {
				t.Errorf("Render error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// FuzzFill checks that Fill never panics, leaves text without
// placeholders alone, and agrees with Columns on what is malformed.
func FuzzFill(f *testing.F) {
	for _, s := range []string{
		"", "plain", "Hi {{name}}", "{{ order }}{{name}}", "{{", "}}{{",
		"{{name", "{{}}", "{{{name}}}", "{{a{{b}}}}", "é{{name}}é",
	} {
		f.Add(s, "Asha")
	}
	f.Fuzz(func(t *testing.T, text, value string) {
		vars := map[string]string{"name": value, "order": value}
		got, err := Fill(text, vars)
		if !strings.Contains(text, "{{") && (err != nil || got != text) {
			t.Fatalf("Fill(%q) = %q, %v; want the text unchanged", text, got, err)
		}
		if err != nil && got != "" {
			t.Fatalf("Fill(%q) = %q with error %v; want empty", text, got, err)
		}
		cols, cerr := Columns(text)
		if cerr != nil && err == nil || errors.Is(err, ErrPlaceholder) && cerr == nil {
			t.Fatalf("Columns(%q) error %v disagrees with Fill error %v", text, cerr, err)
		}
		if err == nil && len(cols) == 0 && got != text {
			t.Fatalf("Fill(%q) = %q; no columns, want the text unchanged", text, got)
		}
	})
}
