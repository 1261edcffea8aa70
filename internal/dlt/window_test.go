package dlt

import (
	"testing"
	"time"
)

// ist returns 2025-11-03 at h:m:s IST, a Monday.
func ist(day, h, m, s int) time.Time {
	return time.Date(2025, time.November, day, h, m, s, 0, IST)
}

func TestWindow(t *testing.T) {
	tests := []struct {
		name     string
		category string
		now      time.Time
		wantOK   bool
		wantNext time.Time
	}{
		{"promotional a second before opening", Promotional,
			ist(3, 9, 59, 59), false, ist(3, 10, 0, 0)},
		{"promotional at opening", Promotional,
			ist(3, 10, 0, 0), true, ist(3, 10, 0, 0)},
		{"promotional a second before closing", Promotional,
			ist(3, 20, 59, 59), true, ist(3, 20, 59, 59)},
		{"promotional at closing", Promotional,
			ist(3, 21, 0, 0), false, ist(4, 10, 0, 0)},
		{"promotional just before midnight", Promotional,
			ist(3, 23, 59, 59), false, ist(4, 10, 0, 0)},
		{"promotional after midnight", Promotional,
			ist(4, 0, 0, 1), false, ist(4, 10, 0, 0)},
		{"promotional across a month end", Promotional,
			time.Date(2025, time.November, 30, 22, 0, 0, 0, IST), false,
			time.Date(2025, time.December, 1, 10, 0, 0, 0, IST)},
		{"promotional at 16:00 UTC is 21:30 IST", Promotional,
			time.Date(2025, time.November, 3, 16, 0, 0, 0, time.UTC), false,
			ist(4, 10, 0, 0)},
		{"promotional at 04:29 UTC is 09:59 IST", Promotional,
			time.Date(2025, time.November, 3, 4, 29, 0, 0, time.UTC), false,
			ist(3, 10, 0, 0)},
		{"service-explicit held like promotional", ServiceExplicit,
			ist(3, 21, 0, 0), false, ist(4, 10, 0, 0)},
		{"unknown category held to the window", "",
			ist(3, 9, 0, 0), false, ist(3, 10, 0, 0)},
		{"transactional at night", Transactional,
			ist(3, 2, 0, 0), true, ist(3, 2, 0, 0)},
		{"service-implicit at night", ServiceImplicit,
			ist(3, 23, 0, 0), true, ist(3, 23, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, next := Window(tt.category, tt.now)
			if ok != tt.wantOK || !next.Equal(tt.wantNext) {
				t.Errorf("Window(%q, %s) = %t, %s; want %t, %s", tt.category,
					tt.now, ok, next, tt.wantOK, tt.wantNext)
			}
		})
	}
}
