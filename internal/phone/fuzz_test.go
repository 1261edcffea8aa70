package phone

import (
	"errors"
	"regexp"
	"testing"
)

// e164 is the shape every normalised number has.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzNormalize feeds Normalize what people paste into spreadsheets.
// It never panics and answers the same twice; an accepted number is
// E.164, normalises to itself, and masks without showing its middle;
// a refusal is one of the documented reasons.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"09900000001", "+91-99000-00001", "0919900000001", "00919900000001",
		"9191990000", "99000\u00a000001", "990000001", "+1 (415) 555-0100",
		"+447700900001", "", "   ", "+", "++919900000001", "0091 99000 00001",
		"9900000001 ext 2", "٩٩٠٠٠٠٠٠٠١", "+91 99000 00001\u202f",
	} {
		f.Add(s, "IN", true)
	}
	f.Add("+14155550100", "US", false)
	f.Add("020 7946 0001", "GB", false)

	f.Fuzz(func(t *testing.T, raw, region string, mobileOnly bool) {
		n, err := Normalize(raw, region, mobileOnly)
		n2, err2 := Normalize(raw, region, mobileOnly)
		if n != n2 || err != err2 {
			t.Fatalf("Normalize(%q, %q) = %q, %v then %q, %v", raw, region, n, err, n2, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrNotANumber) &&
				!errors.Is(err, ErrWrongRegion) && !errors.Is(err, ErrNotMobile) {
				t.Errorf("Normalize(%q, %q) refused with an undocumented reason: %v", raw, region, err)
			}
			return
		}
		if !e164.MatchString(string(n)) {
			t.Fatalf("Normalize(%q, %q) = %q, not E.164", raw, region, n)
		}
		if again, err := Normalize(string(n), region, mobileOnly); err != nil || again != n {
			t.Errorf("Normalize(%q) = %q, %v; want it unchanged", n, again, err)
		}
		if m := n.Masked(); len(m) != len(n) || m == string(n) {
			t.Errorf("Masked(%q) = %q, want the middle hidden", n, m)
		}
	})
}
