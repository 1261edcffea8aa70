package whatsapp

import (
	"bytes"
	"encoding/json"
	"strings"
)

// maxSkipDepth bounds the nesting the walker skips over; deeper bodies
// are left to encoding/json, which has its own limit.
const maxSkipDepth = 500

// walker validates and reads JSON in one pass for the fast path. Any
// malformed or unexpected input sets fail, after which every loop
// ends and parseFast declines; no method indexes past the body.
type walker struct {
	b     []byte
	i     int
	depth int
	fail  bool
}

// peek returns the byte at the cursor, or 0 at the end.
func (w *walker) peek() byte {
	if w.i < len(w.b) {
		return w.b[w.i]
	}
	return 0
}

// ws skips white space.
func (w *walker) ws() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\r', '\n':
			w.i++
		default:
			return
		}
	}
}

// end reports whether the walk succeeded and only white space follows.
func (w *walker) end() bool {
	w.ws()
	return !w.fail && w.i == len(w.b)
}

// enter consumes open, '{' or '[', or fails on another value.
func (w *walker) enter(open byte) bool {
	w.ws()
	if w.fail || w.peek() != open {
		w.fail = true
		return false
	}
	w.i++
	return true
}

// more reports whether an object or array has another member. It
// consumes the comma before every member but the first, or the closing
// bracket; n counts the members seen.
func (w *walker) more(closing byte, n *int) bool {
	if w.fail {
		return false
	}
	w.ws()
	switch c := w.peek(); {
	case c == closing:
		w.i++
		return false
	case *n == 0:
	case c == ',':
		w.i++
	default:
		w.fail = true
		return false
	}
	*n++
	return true
}

// once fails a key already seen in this object: encoding/json would
// let the last one win, which the walker does not copy.
func (w *walker) once(seen *uint8, bit uint8) {
	if *seen&bit != 0 {
		w.fail = true
	}
	*seen |= bit
}

// key reads an object key and its colon.
func (w *walker) key() []byte {
	w.ws()
	start := w.i
	plain := w.stringEnd()
	if w.fail {
		return nil
	}
	key := w.b[start+1 : w.i-1]
	if !plain {
		var s string
		if json.Unmarshal(w.b[start:w.i], &s) != nil {
			w.fail = true
			return nil
		}
		key = []byte(s)
	}
	w.ws()
	if w.peek() != ':' {
		w.fail = true
		return nil
	}
	w.i++
	return key
}

// str reads a string value into dst; another value fails.
func (w *walker) str(dst *string) {
	*dst, _ = w.text()
}

// text reads a string value. It returns rather than stores its result
// so that dst pointers above it stay on the stack.
func (w *walker) text() (string, bool) {
	w.ws()
	start := w.i
	plain := w.stringEnd()
	switch {
	case w.fail:
		return "", false
	case plain:
		return string(w.b[start+1 : w.i-1]), true
	}
	// Escapes and non-ASCII text are rare: let encoding/json read them
	// so both paths agree to the byte.
	var s string
	if json.Unmarshal(w.b[start:w.i], &s) != nil {
		w.fail = true
		return "", false
	}
	return s, true
}

// stringEnd moves past the string at the cursor, checking its
// escapes and that it holds no control characters, and reports whether
// it is plain: ASCII without escapes.
func (w *walker) stringEnd() bool {
	if w.peek() != '"' {
		w.fail = true
		return false
	}
	plain := true
	for j := w.i + 1; j < len(w.b); j++ {
		switch c := w.b[j]; {
		case c == '"':
			w.i = j + 1
			return plain
		case c < 0x20:
			w.fail = true
			return false
		case c == '\\':
			plain = false
			n := escapeLen(w.b[j+1:])
			if n == 0 {
				w.fail = true
				return false
			}
			j += n
		case c >= 0x80:
			plain = false
		}
	}
	w.fail = true
	return false
}

// escapeLen returns the length of a valid escape after a backslash, or
// 0 for an invalid one.
func escapeLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1
	case 'u':
		if len(b) < 5 {
			return 0
		}
		for _, c := range b[1:5] {
			if !isHexDigit(c) {
				return 0
			}
		}
		return 5
	}
	return 0
}

// boolean reads true or false; another value fails.
func (w *walker) boolean(dst *bool) {
	w.ws()
	switch w.peek() {
	case 't':
		*dst = true
		w.literal("true")
	case 'f':
		*dst = false
		w.literal("false")
	default:
		w.fail = true
	}
}

// literal consumes s or fails.
func (w *walker) literal(s string) {
	if !bytes.HasPrefix(w.b[w.i:], []byte(s)) {
		w.fail = true
		return
	}
	w.i += len(s)
}

// number consumes a number as JSON's grammar defines it, or fails.
func (w *walker) number() {
	if w.peek() == '-' {
		w.i++
	}
	switch c := w.peek(); {
	case c == '0':
		w.i++
	case '1' <= c && c <= '9':
		w.digits()
	default:
		w.fail = true
		return
	}
	if w.peek() == '.' {
		w.i++
		w.requireDigits()
	}
	if c := w.peek(); c == 'e' || c == 'E' {
		w.i++
		if c := w.peek(); c == '+' || c == '-' {
			w.i++
		}
		w.requireDigits()
	}
}

func (w *walker) requireDigits() {
	if !isDigit(w.peek()) {
		w.fail = true
		return
	}
	w.digits()
}

func (w *walker) digits() {
	for isDigit(w.peek()) {
		w.i++
	}
}

// other skips the value of an unknown key, but fails a key that
// matches a known one when case is ignored, as encoding/json would read
// it into that field.
func (w *walker) other(key []byte, known ...string) {
	for _, k := range known {
		if strings.EqualFold(string(key), k) {
			w.fail = true
			return
		}
	}
	w.skip()
}

// skip passes over one value of any kind, validating it.
func (w *walker) skip() {
	w.ws()
	switch c := w.peek(); {
	case c == '"':
		w.stringEnd()
	case c == '{', c == '[':
		w.skipNested(c)
	case c == 't':
		w.literal("true")
	case c == 'f':
		w.literal("false")
	case c == 'n':
		w.literal("null")
	case c == '-' || isDigit(c):
		w.number()
	default:
		w.fail = true
	}
}

// skipNested skips an object or array, failing past maxSkipDepth.
func (w *walker) skipNested(open byte) {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxSkipDepth {
		w.fail = true
		return
	}
	w.i++
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	for n := 0; w.more(closing, &n); {
		if open == '{' {
			w.key()
		}
		w.skip()
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
