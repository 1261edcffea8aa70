// Package failure sorts provider errors into the few classes the
// cascade acts on, and names the Step Functions errors that carry them.
package failure

import (
	"fmt"
	"strings"
)

// Class says what the cascade does after a failed attempt.
type Class string

// The failure classes. Their values are stored on attempts and shown in
// statistics, so they never change.
const (
	// FallbackNow: this channel will not deliver this message; move on.
	FallbackNow Class = "fallback-now"
	// Retry: transient; try the same channel again within a budget,
	// then move on.
	Retry Class = "retry"
	// ConfigError: the tenant's set-up is wrong (token, template,
	// billing); alert, and still move on so the person is reached.
	ConfigError Class = "config-error"
	// Final: nothing else should be tried for this recipient.
	Final Class = "final"
)

// Classes lists every class, in the order statistics show them.
var Classes = []Class{FallbackNow, Retry, ConfigError, Final}

// ParseClass returns the class named s.
func ParseClass(s string) (Class, error) {
	for _, c := range Classes {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown failure class %q", s)
}

// errorPrefix starts every error name the state machine catches, so
// they cannot clash with the States.* names of the engine.
const errorPrefix = "Cascade."

// ErrorName is the Step Functions error a callback reports for c, such
// as Cascade.FallbackNow. The state machine's Catch clauses match
// these names, so the set is small and fixed.
func (c Class) ErrorName() string {
	switch c {
	case FallbackNow:
		return errorPrefix + "FallbackNow"
	case Retry:
		return errorPrefix + "Retry"
	case ConfigError:
		return errorPrefix + "ConfigError"
	default:
		return errorPrefix + "Final"
	}
}

// ErrorNames lists the error names of every class.
func ErrorNames() []string {
	out := make([]string, len(Classes))
	for i, c := range Classes {
		out[i] = c.ErrorName()
	}
	return out
}

// FromErrorName is the inverse of ErrorName.
func FromErrorName(name string) (Class, error) {
	if strings.HasPrefix(name, errorPrefix) {
		for _, c := range Classes {
			if c.ErrorName() == name {
				return c, nil
			}
		}
	}
	return "", fmt.Errorf("unknown cascade error name %q", name)
}

// Rule is what one provider error code means to the cascade.
type Rule struct {
	Class  Class
	Reason string // short, for statistics and reports
}

// Error is a provider's refusal of one send, already classified.
// Adapters return it (wrapped or not); any other error from an adapter
// is a transport problem and is treated as Retry.
type Error struct {
	Class    Class
	Code     string // the provider's own code, such as "131026" or "404"
	Reason   string
	Provider string // whatsapp, rbm or msg91
}

// Error describes the refusal with the provider and its code.
func (e *Error) Error() string {
	return fmt.Sprintf("%s refused (%s %s): %s", e.Provider, e.Class, e.Code, e.Reason)
}

// New returns the classified error for a provider code and its rule.
func New(provider, code string, r Rule) *Error {
	return &Error{Class: r.Class, Code: code, Reason: r.Reason, Provider: provider}
}
