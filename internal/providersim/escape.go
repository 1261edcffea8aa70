package providersim

import (
	"unicode/utf16"
	"unicode/utf8"
)

// escapeJSON rewrites encoded JSON the way Meta writes its webhooks:
// every non-ASCII character as a lower-case \uXXXX escape (a surrogate
// pair above U+FFFF) and every slash as \/. Outside strings JSON holds
// only ASCII and no slash, so a byte-level pass is safe.
func escapeJSON(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '/':
			out = append(out, '\\', '/')
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			out = appendRune(out, r)
			i += size
		}
	}
	return out
}

// appendRune appends r as one or two \uXXXX escapes.
func appendRune(out []byte, r rune) []byte {
	if r > 0xFFFF {
		hi, lo := utf16.EncodeRune(r)
		return appendU(appendU(out, hi), lo)
	}
	return appendU(out, r)
}

func appendU(out []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(out, '\\', 'u',
		hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}
