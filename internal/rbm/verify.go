package rbm

import (
	"crypto/hmac"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
)

// SignatureHeader is the header RBM signs webhook events in.
const SignatureHeader = "X-Goog-Signature"

// Errors from checking a webhook's origin. The webhook edge answers
// 401 for ErrNoSignature and 403 for the others.
var (
	// ErrNoSignature means the POST carried no X-Goog-Signature.
	ErrNoSignature = errors.New("missing X-Goog-Signature")
	// ErrBadSignature means the signature is malformed or does not
	// match the event data.
	ErrBadSignature = errors.New("X-Goog-Signature does not match the data")
	// ErrNoClientToken means no client token is configured; an empty
	// key would let anyone sign.
	ErrNoClientToken = errors.New("no client token configured")
	// ErrBadClientToken means a handshake named another client token.
	ErrBadClientToken = errors.New("handshake clientToken does not match")
)

// VerifySignature checks header, the value of X-Goog-Signature, against
// the HMAC-SHA512 of decodedData keyed with clientToken. decodedData
// is the base64-decoded message.data of the Pub/Sub envelope, which is
// what RBM signs. The header is standard base64 with padding; a header
// without padding is accepted too. The comparison is constant time.
func VerifySignature(clientToken string, decodedData []byte, header string) error {
	if clientToken == "" {
		return ErrNoClientToken
	}
	if header == "" {
		return ErrNoSignature
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		got, err = base64.RawStdEncoding.DecodeString(header)
	}
	if err != nil || len(got) != sha512.Size {
		return ErrBadSignature
	}
	if !hmac.Equal(got, sum(clientToken, decodedData)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the X-Goog-Signature value for decodedData.
func Sign(clientToken string, decodedData []byte) string {
	return base64.StdEncoding.EncodeToString(sum(clientToken, decodedData))
}

func sum(clientToken string, data []byte) []byte {
	m := hmac.New(sha512.New, []byte(clientToken))
	m.Write(data)
	return m.Sum(nil)
}

// tokenMatches compares client tokens in constant time.
func tokenMatches(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
