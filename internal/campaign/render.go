package campaign

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Errors from filling a recipient's values into content.
var (
	// ErrMissingColumn means a {{column}} names a column the recipient
	// has no value for.
	ErrMissingColumn = errors.New("missing column")
	// ErrPlaceholder means a {{ has no closing }} or no column name.
	ErrPlaceholder = errors.New("malformed {{column}} placeholder")
	// ErrTooLong means filled content is over its channel's limit.
	ErrTooLong = errors.New("too long")
)

// Fill replaces every {{column}} in text with the recipient's value
// for that column. Spaces inside the braces are ignored; a column the
// recipient lacks is an error wrapping ErrMissingColumn that names it.
func Fill(text string, vars map[string]string) (string, error) {
	return expand(text, func(col string) (string, error) {
		v, ok := vars[col]
		if !ok {
			return "", fmt.Errorf("column %q: %w", col, ErrMissingColumn)
		}
		return v, nil
	})
}

// Columns returns the columns text's placeholders name, in order of
// first use, or an error wrapping ErrPlaceholder.
func Columns(text string) ([]string, error) {
	var cols []string
	_, err := expand(text, func(col string) (string, error) {
		if !slices.Contains(cols, col) {
			cols = append(cols, col)
		}
		return "", nil
	})
	return cols, err
}

// expand writes text with each {{column}} replaced by value(column).
func expand(text string, value func(string) (string, error)) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	var b strings.Builder
	for {
		before, rest, found := strings.Cut(text, "{{")
		b.WriteString(before)
		if !found {
			return b.String(), nil
		}
		name, after, closed := strings.Cut(rest, "}}")
		name = strings.TrimSpace(name)
		if !closed || name == "" || strings.ContainsAny(name, "{}") {
			return "", ErrPlaceholder
		}
		v, err := value(name)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		text = after
	}
}

// Columns returns every column the campaign's content uses, sorted,
// so an uploaded CSV's header can be checked before launch. Malformed
// placeholders are skipped; Validate reports them.
func (c *Campaign) Columns() []string {
	var all []string
	add := func(texts ...string) {
		for _, t := range texts {
			cols, _ := Columns(t)
			all = append(all, cols...)
		}
	}
	for _, s := range c.Channels {
		if s.WhatsApp != nil {
			add(s.WhatsApp.Parameters...)
		}
		if s.RCS != nil {
			add(s.RCS.texts()...)
		}
		if s.SMS != nil {
			add(s.SMS.Variables...)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// texts lists every filled field of the message.
func (r *RCS) texts() []string {
	t := []string{r.Text}
	if r.Card != nil {
		t = append(t, r.Card.Title, r.Card.Description, r.Card.ImageURL)
	}
	for _, s := range r.Suggestions {
		t = append(t, s.Text, s.PostbackData, s.URL)
	}
	return t
}

// Params returns the template's body parameters filled with the
// recipient's values, in order.
func (w WhatsApp) Params(vars map[string]string) ([]string, error) {
	out := make([]string, len(w.Parameters))
	for i, p := range w.Parameters {
		v, err := Fill(p, vars)
		if err != nil {
			return nil, fmt.Errorf("whatsapp parameter %d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

// Values returns the SMS variables filled with the recipient's values,
// in the order of the DLT text's {#var#} slots.
func (s SMS) Values(vars map[string]string) ([]string, error) {
	out := make([]string, len(s.Variables))
	for i, v := range s.Variables {
		f, err := Fill(v, vars)
		if err != nil {
			return nil, fmt.Errorf("sms variable %d: %w", i+1, err)
		}
		out[i] = f
	}
	return out, nil
}

// Render returns a copy of the message with the recipient's values
// filled into its text, card and suggestions, checked again against
// RBM's limits.
func (r RCS) Render(vars map[string]string) (RCS, error) {
	f := filler{vars: vars}
	f.fill("rcs text", &r.Text, MaxRCSText)
	if r.Card != nil {
		c := *r.Card
		f.fill("rcs card title", &c.Title, 0)
		f.fill("rcs card description", &c.Description, 0)
		f.fill("rcs card imageUrl", &c.ImageURL, 0)
		r.Card = &c
	}
	r.Suggestions = slices.Clone(r.Suggestions)
	for i := range r.Suggestions {
		s := &r.Suggestions[i]
		f.fill("rcs suggestion text", &s.Text, MaxSuggestionText)
		f.fill("rcs suggestion postbackData", &s.PostbackData, MaxPostbackData)
		f.fill("rcs suggestion url", &s.URL, 0)
	}
	if f.err != nil {
		return RCS{}, f.err
	}
	return r, nil
}

// filler fills several fields and keeps the first error, so Render
// reads as a list of fields.
type filler struct {
	vars map[string]string
	err  error
}

// fill fills *s in place; limit, when not zero, is its most
// characters.
func (f *filler) fill(field string, s *string, limit int) {
	if f.err != nil {
		return
	}
	v, err := Fill(*s, f.vars)
	switch {
	case err != nil:
		f.err = fmt.Errorf("%s: %w", field, err)
	case limit > 0 && utf8.RuneCountInString(v) > limit:
		f.err = fmt.Errorf("%s over %d characters: %w", field, limit, ErrTooLong)
	default:
		*s = v
	}
}
