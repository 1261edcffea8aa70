package dlt

import "time"

// IST is India Standard Time, UTC+05:30 all year. A fixed zone needs
// no tzdata in the Lambda image.
var IST = time.FixedZone("IST", 5*60*60+30*60)

// Opens and Closes bound the promotional window, as offsets from
// midnight IST: 10:00 up to, not including, 21:00.
//
// TODO(cascade): older sources say 09:00; operator notices from
// October 2025 say 10:00. Make the window per-tenant configuration if
// TRAI's text or an operator says otherwise.
const (
	Opens  = 10 * time.Hour
	Closes = 21 * time.Hour
)

// Window reports whether an SMS of category may be submitted at now.
// Promotional and service-explicit traffic may go out only between
// Opens and Closes IST; outside it ok is false and next is the next
// opening, so the sender defers the message rather than send or drop
// it. Transactional and service-implicit traffic may always go, and
// an unknown category is held to the window. When ok, next is now.
func Window(category string, now time.Time) (ok bool, next time.Time) {
	if category == Transactional || category == ServiceImplicit {
		return true, now
	}
	t := now.In(IST)
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, IST)
	opens, closes := midnight.Add(Opens), midnight.Add(Closes)
	switch {
	case t.Before(opens):
		return false, opens
	case t.Before(closes):
		return true, now
	default:
		return false, opens.AddDate(0, 0, 1)
	}
}
