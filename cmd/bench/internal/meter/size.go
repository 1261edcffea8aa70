package meter

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
)

// ItemSize returns the size DynamoDB bills an item at: each attribute
// name's UTF-8 bytes plus its value's size, the item given in the
// service's JSON wire format ({"name": {"S": "…"}, …}).
func ItemSize(item map[string]json.RawMessage) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize sizes one typed value. Numbers take one byte per two
// significant digits plus one; a map or list takes 3 bytes plus one
// per element beside the elements themselves; null and booleans one.
func valueSize(raw json.RawMessage) int {
	var typed map[string]json.RawMessage
	if json.Unmarshal(raw, &typed) != nil {
		return 0
	}
	for t, v := range typed {
		switch t {
		case "S":
			var s string
			_ = json.Unmarshal(v, &s)
			return len(s)
		case "N":
			var s string
			_ = json.Unmarshal(v, &s)
			return numberSize(s)
		case "B":
			return binarySize(v)
		case "BOOL", "NULL":
			return 1
		case "SS":
			var ss []string
			_ = json.Unmarshal(v, &ss)
			n := 0
			for _, s := range ss {
				n += len(s)
			}
			return n
		case "NS":
			var ss []string
			_ = json.Unmarshal(v, &ss)
			n := 0
			for _, s := range ss {
				n += numberSize(s)
			}
			return n
		case "BS":
			var bs []json.RawMessage
			_ = json.Unmarshal(v, &bs)
			n := 0
			for _, b := range bs {
				n += binarySize(b)
			}
			return n
		case "M":
			var m map[string]json.RawMessage
			_ = json.Unmarshal(v, &m)
			return 3 + ItemSize(m) + len(m)
		case "L":
			var l []json.RawMessage
			_ = json.Unmarshal(v, &l)
			n := 3 + len(l)
			for _, e := range l {
				n += valueSize(e)
			}
			return n
		}
	}
	return 0
}

func binarySize(v json.RawMessage) int {
	var s string
	_ = json.Unmarshal(v, &s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return len(s)
	}
	return len(b)
}

// numberSize counts significant digits: leading and trailing zeros,
// sign and point do not count.
func numberSize(s string) int {
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.Replace(s, ".", "", 1)
	s = strings.Trim(s, "0")
	return int(math.Ceil(float64(len(s))/2)) + 1
}

// writeUnits is what one write of an item of size bytes costs: one
// unit per KB begun, two in a transaction.
func writeUnits(size int, txn bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/1024))
	if txn {
		u *= 2
	}
	return u
}

// readUnits is what reading size bytes in one request costs: one unit
// per 4 KB begun, half for an eventually consistent read, two in a
// transaction.
func readUnits(size int, consistent, txn bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/4096))
	switch {
	case txn:
		return 2 * u
	case consistent:
		return u
	}
	return u / 2
}
