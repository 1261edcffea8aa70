package rbm

import (
	"strconv"
	"time"
)

// agentMessage is the body of agentMessages.create (reference 2.3).
type agentMessage struct {
	ContentMessage contentMessage `json:"contentMessage"`
	TrafficType    string         `json:"messageTrafficType,omitempty"`
	TTL            string         `json:"ttl,omitempty"`
}

type contentMessage struct {
	Text        string       `json:"text,omitempty"`
	RichCard    *richCard    `json:"richCard,omitempty"`
	Suggestions []suggestion `json:"suggestions,omitempty"`
}

type richCard struct {
	StandaloneCard standaloneCard `json:"standaloneCard"`
}

type standaloneCard struct {
	Orientation string      `json:"cardOrientation"`
	Content     cardContent `json:"cardContent"`
}

type cardContent struct {
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	Media       *media       `json:"media,omitempty"`
	Suggestions []suggestion `json:"suggestions,omitempty"`
}

type media struct {
	Height      string      `json:"height"`
	ContentInfo contentInfo `json:"contentInfo"`
}

type contentInfo struct {
	FileURL string `json:"fileUrl"`
}

// suggestion holds exactly one of a reply or an action.
type suggestion struct {
	Reply  *reply  `json:"reply,omitempty"`
	Action *action `json:"action,omitempty"`
}

type reply struct {
	Text         string `json:"text"`
	PostbackData string `json:"postbackData"`
}

type action struct {
	Text         string      `json:"text"`
	PostbackData string      `json:"postbackData"`
	OpenURL      *openURL    `json:"openUrlAction,omitempty"`
	Dial         *dialAction `json:"dialAction,omitempty"`
}

type openURL struct {
	URL string `json:"url"`
}

type dialAction struct {
	PhoneNumber string `json:"phoneNumber"`
}

// newAgentMessage builds the wire body: a text message, or a vertical
// standalone card carrying the suggestions. A zero ttl is left out so
// RBM's own 30-day queue applies.
func newAgentMessage(m Message, ttl time.Duration) agentMessage {
	am := agentMessage{TrafficType: m.TrafficType}
	if ttl > 0 {
		am.TTL = strconv.FormatFloat(ttl.Seconds(), 'f', -1, 64) + "s"
	}
	sugs := suggestions(m)
	if m.Card == nil {
		am.ContentMessage = contentMessage{Text: m.Text, Suggestions: sugs}
		return am
	}

	cc := cardContent{
		Title:       m.Card.Title,
		Description: m.Card.Description,
		Suggestions: sugs,
	}
	if m.Card.ImageURL != "" {
		cc.Media = &media{Height: "MEDIUM", ContentInfo: contentInfo{FileURL: m.Card.ImageURL}}
	}
	am.ContentMessage.RichCard = &richCard{StandaloneCard: standaloneCard{
		Orientation: "VERTICAL", Content: cc,
	}}
	return am
}

// suggestions turns ours into RBM's: a URL makes an open-URL action, a
// number to dial a dial action, anything else a suggested reply.
func suggestions(m Message) []suggestion {
	if len(m.Suggestions) == 0 {
		return nil
	}
	out := make([]suggestion, len(m.Suggestions))
	for i, s := range m.Suggestions {
		switch {
		case s.URL != "":
			out[i].Action = &action{Text: s.Text, PostbackData: s.PostbackData,
				OpenURL: &openURL{URL: s.URL}}
		case s.Dial != "":
			out[i].Action = &action{Text: s.Text, PostbackData: s.PostbackData,
				Dial: &dialAction{PhoneNumber: s.Dial}}
		default:
			out[i].Reply = &reply{Text: s.Text, PostbackData: s.PostbackData}
		}
	}
	return out
}
