// Package dlt enforces India's DLT rules (TRAI's TCCCPR) on an SMS
// just before it is submitted: the principal entity, header and
// template ids a message must carry, the {#var#} values it is filled
// with, and the hours promotional traffic may go out. Operators drop a
// message that breaks them, so the SMS sender checks here first.
package dlt

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cascade-oss/cascade/internal/campaign"
)

// The DLT categories an SMS template is registered under.
const (
	Transactional   = "transactional"
	ServiceImplicit = "service-implicit"
	// ServiceExplicit was folded into promotional by TRAI's 2025
	// amendment; templates still carry it, so it stays accepted and
	// gets promotional's time window.
	ServiceExplicit = "service-explicit"
	Promotional     = "promotional"
)

// Categories lists every category.
var Categories = []string{Transactional, ServiceImplicit, ServiceExplicit, Promotional}

// Var is a variable slot in a registered template, written exactly so.
const Var = "{#var#}"

// HeaderLen is the length of a sender header.
const HeaderLen = 6

// MaxValueLen is the most characters a {#var#} value may have.
//
// TODO(cascade): sources give 30 and 20; make it per-tenant once an
// operator confirms which applies to our templates.
const MaxValueLen = 30

// Errors Check returns, one per rule. The sender treats them all as a
// refusal the operator would have made, so nothing is submitted.
var (
	ErrEntity     = errors.New("dlt: principal entity id missing or not numeric")
	ErrTemplate   = errors.New("dlt: template id missing or not numeric")
	ErrText       = errors.New("dlt: registered template text missing")
	ErrCategory   = errors.New("dlt: unknown category")
	ErrHeader     = errors.New("dlt: header is not 6 allowed characters")
	ErrValueCount = errors.New("dlt: values do not match the {#var#} slots")
	ErrValueLong  = errors.New("dlt: value too long")
	ErrValueChar  = errors.New("dlt: value has a newline or control character")
)

// Check checks sms against the DLT rules with values for its {#var#}
// slots, in order, and returns the text to send. The first rule broken
// is returned as an error wrapping its sentinel; error messages never
// include the values, which may be personal.
func Check(sms campaign.SMS, values []string) (text string, err error) {
	switch {
	case !numeric(sms.PrincipalEntityID):
		return "", ErrEntity
	case !numeric(sms.DLTTemplateID):
		return "", ErrTemplate
	case sms.DLTText == "":
		return "", ErrText
	}
	if err := checkHeader(sms.Category, sms.Header); err != nil {
		return "", err
	}
	return render(sms.DLTText, values)
}

// checkHeader wants 6 letters; promotional headers may also use
// digits, since TRAI's 2025 rules let brands use letters there too.
func checkHeader(category, header string) error {
	digitsOK := false
	switch category {
	case Promotional:
		digitsOK = true
	case Transactional, ServiceImplicit, ServiceExplicit:
	default:
		return fmt.Errorf("category %q: %w", category, ErrCategory)
	}
	if n := utf8.RuneCountInString(header); n != HeaderLen {
		return fmt.Errorf("header of %d characters: %w", n, ErrHeader)
	}
	for _, r := range header {
		letter := 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z'
		if !letter && !(digitsOK && '0' <= r && r <= '9') {
			return fmt.Errorf("header %q for %s: %w", header, category, ErrHeader)
		}
	}
	return nil
}

// render puts each value in its {#var#} slot, in one pass so a value
// that looks like a slot is sent as it is.
func render(text string, values []string) (string, error) {
	parts := strings.Split(text, Var)
	if len(parts)-1 != len(values) {
		return "", fmt.Errorf("%d values for %d slots: %w",
			len(values), len(parts)-1, ErrValueCount)
	}
	var b strings.Builder
	b.WriteString(parts[0])
	for i, v := range values {
		if err := checkValue(v); err != nil {
			return "", fmt.Errorf("value %d: %w", i+1, err)
		}
		b.WriteString(v)
		b.WriteString(parts[i+1])
	}
	return b.String(), nil
}

// checkValue wants at most MaxValueLen characters on one line.
func checkValue(v string) error {
	if n := utf8.RuneCountInString(v); n > MaxValueLen {
		return fmt.Errorf("%d characters, at most %d: %w", n, MaxValueLen, ErrValueLong)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return ErrValueChar
	}
	return nil
}

// numeric reports whether s is a non-empty run of ASCII digits.
func numeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
