package campaign

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/cascade-oss/cascade/internal/channel"
	"github.com/cascade-oss/cascade/internal/phone"
)

// Limits a campaign must respect. The RCS ones are RBM's documented
// message limits; the others are Cascade's.
const (
	// MaxName is the longest name, in characters.
	MaxName = 128
	// MaxRecipients is the most rows an inline audience may have;
	// larger audiences are uploaded as a CSV.
	MaxRecipients = 10_000
	// MinRetries and MaxRetries bound the resends in retries mode.
	MinRetries, MaxRetries = 1, 3
	// MinInterval and MaxInterval bound the seconds between resends.
	MinInterval, MaxInterval = 60, 7 * 86_400
	// MinTimeout and MaxTimeout bound a step's delivery timeout, in
	// seconds.
	MinTimeout, MaxTimeout = 1, 3 * 86_400

	// MaxRCSText is the most characters of RCS text.
	MaxRCSText = 3_072
	// MaxSuggestionText is the most characters of a suggestion.
	MaxSuggestionText = 25
	// MaxSuggestions is the most suggestions on a text message.
	MaxSuggestions = 11
	// MaxCardSuggestions is the most suggestions on a rich card.
	MaxCardSuggestions = 4
	// MaxPostbackData is the most characters of postbackData.
	MaxPostbackData = 2_048
)

// Default delivery timeouts in seconds: how long a step waits for
// "delivered" before the cascade moves on.
const (
	WhatsAppTimeout = 600
	RCSTimeout      = 600
	SMSTimeout      = 1_800
)

// Timeout returns ch's default delivery timeout in seconds; an
// unknown channel gets WhatsApp's.
func Timeout(ch channel.Channel) int {
	switch ch {
	case channel.SMS:
		return SMSTimeout
	case channel.RCS:
		return RCSTimeout
	default:
		return WhatsAppTimeout
	}
}

// Timeout returns the step's delivery timeout in seconds: its own, or
// its channel's default when it has none.
func (s Step) Timeout() int {
	if s.TimeoutSeconds > 0 {
		return s.TimeoutSeconds
	}
	return Timeout(s.Channel)
}

// Defaults fills what a campaign may leave out: region IN, fallback
// mode, each step's timeout and the SMS provider.
func (c *Campaign) Defaults() {
	if c.Region == "" {
		c.Region = phone.DefaultRegion
	}
	if c.Mode == "" {
		c.Mode = Fallback
	}
	for i := range c.Channels {
		s := &c.Channels[i]
		if s.TimeoutSeconds == 0 {
			s.TimeoutSeconds = Timeout(s.Channel)
		}
		if s.SMS != nil && s.SMS.Provider == "" {
			s.SMS.Provider = msg91
		}
	}
}

// Problem is one thing wrong with a campaign: the JSON path of the
// field, such as channels[2].sms.dltTemplateId, and what is wrong.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// String returns the problem as "field: message".
func (p Problem) String() string { return p.Field + ": " + p.Message }

// Problems is every problem Validate found, in field order. It is the
// error type Validate returns.
type Problems []Problem

// Error joins the problems with "; ".
func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return "invalid campaign: " + strings.Join(s, "; ")
}

// add records a problem with field.
func (ps *Problems) add(field, format string, a ...any) {
	*ps = append(*ps, Problem{Field: field, Message: fmt.Sprintf(format, a...)})
}

// Validate checks every rule a campaign must meet before it is stored
// and returns all the problems at once as Problems, or nil. Empty
// region, mode and timeouts are valid and mean their defaults.
func (c *Campaign) Validate() error {
	var ps Problems
	c.checkName(&ps)
	c.checkRegion(&ps)
	c.checkMode(&ps)
	c.checkChannels(&ps)
	c.Audience.check(&ps)
	if len(ps) == 0 {
		return nil
	}
	return ps
}

func (c *Campaign) checkName(ps *Problems) {
	switch {
	case strings.TrimSpace(c.Name) == "":
		ps.add("name", "required")
	case utf8.RuneCountInString(c.Name) > MaxName:
		ps.add("name", "at most %d characters", MaxName)
	}
}

// checkRegion accepts an upper-case ISO 3166 alpha-2 code that the
// phone number library knows.
func (c *Campaign) checkRegion(ps *Problems) {
	r := c.Region
	if r == "" {
		return
	}
	if len(r) != 2 || strings.ToUpper(r) != r ||
		phonenumbers.GetCountryCodeForRegion(r) == 0 {
		ps.add("region", "must be an ISO 3166 alpha-2 code such as IN")
	}
}

// checkMode checks the mode and the retry policy that goes with it.
func (c *Campaign) checkMode(ps *Problems) {
	switch c.Mode {
	case "", Fallback:
		if c.Retry != nil {
			ps.add("retry", "not allowed in fallback mode")
		}
	case Retries:
		if len(c.Channels) > 1 {
			ps.add("channels", "retries mode takes exactly one channel")
		}
		c.Retry.check(ps)
	default:
		ps.add("mode", "must be fallback or retries")
	}
}

func (r *Retry) check(ps *Problems) {
	if r == nil {
		ps.add("retry", "required in retries mode")
		return
	}
	if r.Count < MinRetries || r.Count > MaxRetries {
		ps.add("retry.count", "must be %d to %d", MinRetries, MaxRetries)
	}
	if r.IntervalSeconds < MinInterval || r.IntervalSeconds > MaxInterval {
		ps.add("retry.intervalSeconds", "must be %d to %d seconds",
			MinInterval, MaxInterval)
	}
}

// checkChannels checks the channel order, then each step.
func (c *Campaign) checkChannels(ps *Problems) {
	if len(c.Channels) == 0 {
		ps.add("channels", "at least one channel required")
		return
	}
	// Each channel appears once at most, so a longer list is wrong as a
	// whole; checking its steps one by one would only bury that under
	// a problem per step.
	if len(c.Channels) > len(channel.All) {
		ps.add("channels", "at most %d steps, one per channel", len(channel.All))
		return
	}
	seen := map[channel.Channel]bool{}
	for i, s := range c.Channels {
		path := fmt.Sprintf("channels[%d]", i)
		switch {
		case s.Channel == "":
			ps.add(path+".channel", "required")
			continue
		case !s.Channel.Valid():
			ps.add(path+".channel", "must be whatsapp, rcs or sms")
			continue
		case seen[s.Channel]:
			ps.add(path+".channel", "repeats %s", s.Channel)
		}
		seen[s.Channel] = true
		s.check(path, ps)
	}
}

// check checks a step whose channel is known.
func (s Step) check(path string, ps *Problems) {
	t := s.TimeoutSeconds
	if t != 0 && (t < MinTimeout || t > MaxTimeout) {
		ps.add(path+".timeoutSeconds", "must be %d to %d seconds",
			MinTimeout, MaxTimeout)
	}

	// Exactly the content object of the step's own channel; the JSON
	// names of the content objects are the channel names.
	has := map[channel.Channel]bool{
		channel.WhatsApp: s.WhatsApp != nil,
		channel.RCS:      s.RCS != nil,
		channel.SMS:      s.SMS != nil,
	}
	for _, ch := range channel.All {
		switch {
		case ch == s.Channel && !has[ch]:
			ps.add(path+"."+string(ch), "required")
		case ch != s.Channel && has[ch]:
			ps.add(path+"."+string(ch), "not allowed on a %s step", s.Channel)
		}
	}

	switch {
	case s.Channel == channel.WhatsApp && s.WhatsApp != nil:
		s.WhatsApp.check(path+".whatsapp", ps)
	case s.Channel == channel.RCS && s.RCS != nil:
		s.RCS.check(path+".rcs", ps)
	case s.Channel == channel.SMS && s.SMS != nil:
		s.SMS.check(path+".sms", ps)
	}
}

func (a Audience) check(ps *Problems) {
	inline, upload := len(a.Recipients) > 0, a.S3Key != ""
	switch {
	case inline && upload:
		ps.add("audience", "recipients and s3Key are exclusive")
	case !inline && !upload:
		ps.add("audience", "recipients or s3Key required")
	case len(a.Recipients) > MaxRecipients:
		ps.add("audience.recipients", "at most %d rows; upload a CSV for more",
			MaxRecipients)
	}
}

// required records field as required when v is blank.
func required(ps *Problems, field, v string) bool {
	if strings.TrimSpace(v) == "" {
		ps.add(field, "required")
		return false
	}
	return true
}

// maxLen records field as too long when v has more than n characters.
func maxLen(ps *Problems, field, v string, n int) {
	if utf8.RuneCountInString(v) > n {
		ps.add(field, "at most %d characters", n)
	}
}

// template records a malformed {{column}} placeholder in v.
func template(ps *Problems, field, v string) {
	if _, err := Columns(v); err != nil {
		ps.add(field, "%s", err.Error())
	}
}

// oneOf reports whether v is one of set.
func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// The values some content fields accept.
var (
	waCategories = []string{"utility", "marketing", "authentication"}
	trafficTypes = []string{"AUTHENTICATION", "TRANSACTION", "PROMOTION",
		"SERVICEREQUEST", "ACKNOWLEDGEMENT"}
	// dltCategories mirror the dlt package's, which imports this one.
	dltCategories = []string{"transactional", "service-implicit",
		"service-explicit", "promotional"}
)

// DLT and SMS provider facts the SMS checks use.
const (
	headerLen   = 6         // characters of a DLT header
	placeholder = "{#var#}" // a DLT variable slot, written exactly so
	msg91       = "msg91"   // the one SMS provider so far
)

func (w *WhatsApp) check(path string, ps *Problems) {
	required(ps, path+".template", w.Template)
	required(ps, path+".language", w.Language)
	for i, p := range w.Parameters {
		template(ps, fmt.Sprintf("%s.parameters[%d]", path, i), p)
	}
	if w.Category != "" && !oneOf(w.Category, waCategories...) {
		ps.add(path+".category", "must be utility, marketing or authentication")
	}
}

// check checks the message against RBM's limits. Text lengths are
// those of the stored text; Render checks them again once filled.
func (r *RCS) check(path string, ps *Problems) {
	switch {
	case r.Text == "" && r.Card == nil:
		ps.add(path, "text or card required")
	case r.Text != "" && r.Card != nil:
		ps.add(path, "text and card are exclusive")
	}
	maxLen(ps, path+".text", r.Text, MaxRCSText)
	template(ps, path+".text", r.Text)

	most := MaxSuggestions
	if r.Card != nil {
		most = MaxCardSuggestions
		r.Card.check(path+".card", ps)
	}
	if len(r.Suggestions) > most {
		ps.add(path+".suggestions", "at most %d", most)
	}
	for i, s := range r.Suggestions {
		s.check(fmt.Sprintf("%s.suggestions[%d]", path, i), ps)
	}

	if r.TrafficType != "" && !oneOf(r.TrafficType, trafficTypes...) {
		ps.add(path+".trafficType", "must be one of %s",
			strings.Join(trafficTypes, ", "))
	}
}

func (c *Card) check(path string, ps *Problems) {
	if c.Title == "" && c.Description == "" && c.ImageURL == "" {
		ps.add(path, "title, description or imageUrl required")
	}
	template(ps, path+".title", c.Title)
	template(ps, path+".description", c.Description)
	if c.ImageURL != "" && !webURL(c.ImageURL) {
		ps.add(path+".imageUrl", "must be an http or https URL")
	}
}

func (s Suggestion) check(path string, ps *Problems) {
	if required(ps, path+".text", s.Text) {
		maxLen(ps, path+".text", s.Text, MaxSuggestionText)
		template(ps, path+".text", s.Text)
	}
	if required(ps, path+".postbackData", s.PostbackData) {
		maxLen(ps, path+".postbackData", s.PostbackData, MaxPostbackData)
		template(ps, path+".postbackData", s.PostbackData)
	}
	switch {
	case s.URL != "" && s.Dial != "":
		ps.add(path, "url and dial are exclusive")
	case s.URL != "" && !webURL(s.URL):
		ps.add(path+".url", "must be an http or https URL")
	case s.Dial != "" && !e164(s.Dial):
		ps.add(path+".dial", "must be an E.164 number such as +919900000001")
	}
}

// check checks the SMS against its DLT registration as far as that can
// be done before there is a recipient; dlt.Check does the rest.
func (s *SMS) check(path string, ps *Problems) {
	if s.Provider != "" && s.Provider != msg91 {
		ps.add(path+".provider", "must be msg91")
	}
	required(ps, path+".templateId", s.TemplateID)
	numeric(ps, path+".dltTemplateId", s.DLTTemplateID)
	numeric(ps, path+".principalEntityId", s.PrincipalEntityID)
	if required(ps, path+".category", s.Category) &&
		!oneOf(s.Category, dltCategories...) {
		ps.add(path+".category", "must be one of %s",
			strings.Join(dltCategories, ", "))
	}
	if required(ps, path+".header", s.Header) {
		s.checkHeader(path+".header", ps)
	}
	if required(ps, path+".dltText", s.DLTText) {
		s.checkSlots(path, ps)
	}
	for i, v := range s.Variables {
		template(ps, fmt.Sprintf("%s.variables[%d]", path, i), v)
	}
}

// checkHeader wants 6 letters, or for promotional traffic 6 letters
// or digits: numeric promotional headers predate TRAI's 2025 rules.
func (s *SMS) checkHeader(field string, ps *Problems) {
	if utf8.RuneCountInString(s.Header) != headerLen {
		ps.add(field, "must be %d characters", headerLen)
		return
	}
	digitsOK := s.Category == "promotional"
	for _, r := range s.Header {
		letter := 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z'
		if !letter && !(digitsOK && '0' <= r && r <= '9') {
			if digitsOK {
				ps.add(field, "must be letters or digits")
			} else {
				ps.add(field, "must be letters only")
			}
			return
		}
	}
}

// checkSlots wants every slot in dltText written exactly {#var#} and
// one variable per slot.
func (s *SMS) checkSlots(path string, ps *Problems) {
	slots := strings.Count(s.DLTText, placeholder)
	if strings.Count(s.DLTText, "{#") != slots {
		ps.add(path+".dltText", "placeholders must be written %s", placeholder)
		return
	}
	if len(s.Variables) != slots {
		ps.add(path+".variables", "%d given for %d %s in dltText",
			len(s.Variables), slots, placeholder)
	}
}

// numeric records field as required or not numeric.
func numeric(ps *Problems, field, v string) {
	if !required(ps, field, v) {
		return
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			ps.add(field, "must be digits only")
			return
		}
	}
}

// webURL reports whether v is an http or https URL; a {{column}} in
// it is filled later.
func webURL(v string) bool {
	return strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://")
}

// e164 reports whether v looks like an E.164 number: a plus, then 8 to
// 15 digits not starting with 0.
func e164(v string) bool {
	d, ok := strings.CutPrefix(v, "+")
	if !ok || len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
