package whatsapp

import "encoding/json"

// spot locates a part of a webhook body to park: a change's value
// (status -1) or one status within it.
type spot struct {
	entry, change, status int
	reason                string
}

// rawBody, rawChange and rawValue walk a body a second time keeping
// the JSON of each part. Parking is rare, so the common path decodes
// once into structs and only bodies with something to park pay for
// this second pass.
type rawBody struct {
	Entry []struct {
		Changes []json.RawMessage `json:"changes"`
	} `json:"entry"`
}

type rawChange struct {
	Value json.RawMessage `json:"value"`
}

type rawValue struct {
	Statuses []json.RawMessage `json:"statuses"`
}

// fetch returns the raw JSON of each spot in body, which has already
// decoded once, so the walk cannot fail on a part it reaches.
func fetch(body []byte, spots []spot) []Parked {
	var rb rawBody
	_ = json.Unmarshal(body, &rb) // decoded before; cannot fail here
	out := make([]Parked, 0, len(spots))
	for _, s := range spots {
		out = append(out, Parked{Reason: s.reason, Raw: rb.part(s)})
	}
	return out
}

// part returns the JSON at s, or nil when the second walk disagrees
// with the first, which would be a bug rather than a bad body.
func (rb rawBody) part(s spot) json.RawMessage {
	if s.entry >= len(rb.Entry) || s.change >= len(rb.Entry[s.entry].Changes) {
		return nil
	}
	var c rawChange
	if json.Unmarshal(rb.Entry[s.entry].Changes[s.change], &c) != nil {
		return nil
	}
	if s.status < 0 {
		return c.Value
	}
	var v rawValue
	if json.Unmarshal(c.Value, &v) != nil || s.status >= len(v.Statuses) {
		return nil
	}
	return v.Statuses[s.status]
}
