// Package failuretest holds the check the provider adapters' tests
// share: that a send failed, or not, as a provider's refusal of one
// class and code.
package failuretest

import (
	"errors"
	"testing"

	"github.com/cascade-oss/cascade/internal/failure"
)

// CheckRefusal fails t unless err is nil when wantClass is empty, or
// else a *failure.Error from provider with that class and code.
func CheckRefusal(t testing.TB, err error, provider string, wantClass failure.Class, wantCode string) {
	t.Helper()
	if wantClass == "" {
		if err != nil {
			t.Fatalf("error = %v, want nil", err)
		}
		return
	}
	var fe *failure.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v, want a *failure.Error", err)
	}
	if fe.Class != wantClass || fe.Code != wantCode || fe.Provider != provider {
		t.Errorf("refusal = %s %s %s, want %s %s %s",
			fe.Provider, fe.Class, fe.Code, provider, wantClass, wantCode)
	}
}
