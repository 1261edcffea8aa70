// Package phone normalises the phone numbers people paste into
// audiences to E.164, says why a rejected one was refused, and keeps
// full numbers out of logs.
package phone

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Number is a phone number in E.164 form, such as +919900000001. Its
// log value is masked, so a Number can be logged as it is.
type Number string

// Reasons a raw input is rejected. Callers branch on them with
// errors.Is, and reports show their text.
var (
	ErrEmpty       = errors.New("empty")
	ErrNotANumber  = errors.New("not a phone number")
	ErrWrongRegion = errors.New("outside the campaign's region")
	ErrNotMobile   = errors.New("not a mobile number")
)

// DefaultRegion is the region used when a campaign names none.
const DefaultRegion = "IN"

// Normalize parses raw as typed in a spreadsheet and returns it in E.164
// form. A number without a country code is read in region (ISO 3166
// alpha-2, such as "IN"); a number from another region is refused, and
// so is one that is not a mobile number when mobileOnly is set.
func Normalize(raw, region string, mobileOnly bool) (Number, error) {
	s := clean(raw)
	if s == "" {
		return "", ErrEmpty
	}
	if region == "" {
		region = DefaultRegion
	}
	s = withCountryCode(s, region)

	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrNotANumber
	}
	if phonenumbers.GetRegionCodeForNumber(n) != region {
		return "", ErrWrongRegion
	}
	if mobileOnly {
		switch phonenumbers.GetNumberType(n) {
		case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		default:
			return "", ErrNotMobile
		}
	}
	return Number(phonenumbers.Format(n, phonenumbers.E164)), nil
}

// clean drops the separators people type or paste (spaces of every
// kind, including no-break spaces, dashes, dots and brackets) and keeps
// digits and a leading plus.
func clean(raw string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(raw) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f',
			r == '-', r == '.', r == '(', r == ')':
		default:
			// A letter or other symbol makes the input not a number;
			// keep it so the parser refuses it.
			b.WriteRune(r)
		}
	}
	return b.String()
}

// withCountryCode turns the international dialling forms a library
// would misread into a leading plus. In India "00" is the international
// prefix and "0" the trunk prefix, so "0091…" and "091…" (twelve digits
// after the zero) both carry the country code.
func withCountryCode(s, region string) string {
	if strings.HasPrefix(s, "+") {
		return s
	}
	if strings.HasPrefix(s, "00") {
		return "+" + s[2:]
	}
	cc := phonenumbers.GetCountryCodeForRegion(region)
	prefix := "0" + strconv.Itoa(cc)
	national := 10 // India's mobile numbers have ten digits.
	if region == "IN" && strings.HasPrefix(s, prefix) &&
		len(s) == len(prefix)+national {
		return "+" + s[1:]
	}
	return s
}

// String returns the full E.164 form. Use it for provider calls and
// storage, never for logs.
func (n Number) String() string { return string(n) }

// Digits returns the number without its plus, as WhatsApp's recipient_id
// and MSG91's mobiles fields carry it.
func (n Number) Digits() string { return strings.TrimPrefix(string(n), "+") }

// Masked keeps the plus, the first four digits and the last two, and
// hides the rest: +919900000001 becomes +9199******01.
func (n Number) Masked() string {
	return Mask(string(n))
}

// Mask hides the middle of any digit string the way Masked does, for
// numbers that have not been normalised yet.
func Mask(s string) string {
	const head, tail = 4, 2
	plus := strings.HasPrefix(s, "+")
	d := strings.TrimPrefix(s, "+")
	if len(d) <= head+tail {
		d = strings.Repeat("*", len(d))
	} else {
		d = d[:head] + strings.Repeat("*", len(d)-head-tail) + d[len(d)-tail:]
	}
	if plus {
		return "+" + d
	}
	return d
}

// LogValue masks the number in every slog record.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Masked()) }
