package providersim

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RBM's documented limits (reference 2.3).
const (
	rbmMaxText         = 3072
	rbmMaxSuggestions  = 11
	rbmMaxCardSuggests = 4
	rbmMaxSuggestText  = 25
	rbmMaxPostback     = 2048
	rbmMaxTTLSeconds   = 15 * 24 * 3600
)

// rbmTrafficTypes are the accepted messageTrafficType values.
var rbmTrafficTypes = []string{
	"AUTHENTICATION", "TRANSACTION", "PROMOTION", "SERVICEREQUEST",
	"ACKNOWLEDGEMENT",
}

// rbmSend is the part of an AgentMessage the fake checks.
type rbmSend struct {
	Content *struct {
		Text     string `json:"text"`
		RichCard *struct {
			StandaloneCard *struct {
				CardContent struct {
					Suggestions []rbmSuggestion `json:"suggestions"`
				} `json:"cardContent"`
			} `json:"standaloneCard"`
			CarouselCard json.RawMessage `json:"carouselCard"`
		} `json:"richCard"`
		Suggestions []rbmSuggestion `json:"suggestions"`
	} `json:"contentMessage"`
	TrafficType string `json:"messageTrafficType"`
	TTL         string `json:"ttl"`
	ExpireTime  string `json:"expireTime"`
}

type rbmSuggestion struct {
	Reply  *rbmChip `json:"reply"`
	Action *rbmChip `json:"action"`
}

type rbmChip struct {
	Text         string `json:"text"`
	PostbackData string `json:"postbackData"`
}

// validateAgentMessage checks a send body against RBM's rules and
// returns what is wrong, or "".
func validateAgentMessage(body []byte) string {
	var s rbmSend
	if err := json.Unmarshal(body, &s); err != nil {
		return "body is not an AgentMessage"
	}
	c := s.Content
	switch {
	case c == nil:
		return "contentMessage is required"
	case c.Text != "" && c.RichCard != nil:
		return "contentMessage holds more than one content"
	case c.Text == "" && c.RichCard == nil:
		return "contentMessage has no content"
	case utf8.RuneCountInString(c.Text) > rbmMaxText:
		return "text over 3072 characters"
	case len(c.Suggestions) > rbmMaxSuggestions:
		return "more than 11 suggestions"
	case s.TTL != "" && s.ExpireTime != "":
		return "ttl and expireTime are exclusive"
	case s.TrafficType != "" && !slices.Contains(rbmTrafficTypes, s.TrafficType):
		return "unknown messageTrafficType"
	}
	if msg := checkTTL(s.TTL); msg != "" {
		return msg
	}
	sugs := c.Suggestions
	if rc := c.RichCard; rc != nil {
		if rc.StandaloneCard == nil {
			return "the fake checks standalone cards only"
		}
		sugs = rc.StandaloneCard.CardContent.Suggestions
		if len(sugs) > rbmMaxCardSuggests {
			return "more than 4 suggestions on a card"
		}
	}
	return checkSuggestions(sugs)
}

// checkTTL checks a duration string such as "600s".
func checkTTL(ttl string) string {
	if ttl == "" {
		return ""
	}
	n, err := strconv.ParseFloat(strings.TrimSuffix(ttl, "s"), 64)
	if !strings.HasSuffix(ttl, "s") || err != nil || n <= 0 {
		return "ttl must be a duration such as 600s"
	}
	if n > rbmMaxTTLSeconds {
		return "ttl over 15 days"
	}
	return ""
}

// checkSuggestions checks each chip's shape and lengths.
func checkSuggestions(sugs []rbmSuggestion) string {
	for _, s := range sugs {
		chip := s.Reply
		if chip == nil {
			chip = s.Action
		}
		switch {
		case (s.Reply == nil) == (s.Action == nil):
			return "a suggestion holds exactly one of reply or action"
		case chip.Text == "" || utf8.RuneCountInString(chip.Text) > rbmMaxSuggestText:
			return "suggestion text must be 1 to 25 characters"
		case utf8.RuneCountInString(chip.PostbackData) > rbmMaxPostback:
			return "postbackData over 2048 characters"
		}
	}
	return ""
}

// googSignature is the X-Goog-Signature of data: HMAC-SHA512 keyed
// with the client token, in standard base64.
func googSignature(clientToken string, data []byte) string {
	m := hmac.New(sha512.New, []byte(clientToken))
	m.Write(data)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
