package cascade

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cascade-oss/cascade/internal/channel"
	"github.com/cascade-oss/cascade/internal/failure"
)

// fakeSubs fills every placeholder with a URL of the right shape.
func fakeSubs() map[string]string {
	subs := map[string]string{}
	for _, n := range Placeholders() {
		subs[n] = "http://127.0.0.1:4566/123456789012/" + strings.ToLower(n)
	}
	return subs
}

func TestPlaceholders(t *testing.T) {
	want := []string{"OutcomeQueueUrl", "RcsQueueUrl", "SmsQueueUrl", "WhatsAppQueueUrl"}
	if diff := cmp.Diff(want, Placeholders()); diff != "" {
		t.Errorf("Placeholders (-want +got):\n%s", diff)
	}
}

func TestDefinition(t *testing.T) {
	with := func(change func(map[string]string)) map[string]string {
		subs := fakeSubs()
		change(subs)
		return subs
	}
	tests := []struct {
		name    string
		subs    map[string]string
		wantErr bool
	}{
		{"every placeholder filled", fakeSubs(), false},
		{"one missing", with(func(s map[string]string) { delete(s, "RcsQueueUrl") }), true},
		{"one unknown", with(func(s map[string]string) { s["FaxQueueUrl"] = "x" }), true},
		{"a value that needs escaping", with(func(s map[string]string) {
			s["SmsQueueUrl"] = `http://127.0.0.1/q"\x`
		}), false},
		{"none", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := Definition(tt.subs)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Definition error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if strings.Contains(def, "${") {
				t.Error("placeholder left in the definition")
			}
			var asl map[string]any
			if err := json.Unmarshal([]byte(def), &asl); err != nil {
				t.Fatalf("definition is not JSON: %v", err)
			}
			for _, url := range tt.subs {
				if b, _ := json.Marshal(url); !strings.Contains(def, string(b)) {
					t.Errorf("definition lacks %s", b)
				}
			}
		})
	}
}

// aslState is the part of a state the static checks read.
type aslState struct {
	Type       string
	Resource   string
	Parameters struct {
		QueueURL    string         `json:"QueueUrl"`
		MessageBody map[string]any `json:"MessageBody"`
	}
	Retry []struct{ ErrorEquals []string }
	Catch []struct {
		ErrorEquals []string
		Next        string
	}
}

func states(t *testing.T) map[string]aslState {
	t.Helper()
	var asl struct{ States map[string]aslState }
	if err := json.Unmarshal([]byte(RawDefinition()), &asl); err != nil {
		t.Fatalf("parse definition: %v", err)
	}
	return asl.States
}

// TestCallbackTasksCarryToken checks that every callback task's
// message carries the task token, and that no other message does.
func TestCallbackTasksCarryToken(t *testing.T) {
	callbacks := 0
	for name, s := range states(t) {
		if s.Type != "Task" {
			continue
		}
		token, has := s.Parameters.MessageBody["taskToken.$"]
		switch callback := strings.HasSuffix(s.Resource, ".waitForTaskToken"); {
		case callback && token != "$$.Task.Token":
			t.Errorf("%s: taskToken.$ = %v, want $$.Task.Token", name, token)
		case !callback && has:
			t.Errorf("%s: a message that needs no answer carries a token", name)
		}
		if strings.HasSuffix(s.Resource, ".waitForTaskToken") {
			callbacks++
		}
	}
	if want := MaxSteps * 3; callbacks != want {
		t.Errorf("%d callback tasks, want %d (one per step and channel)", callbacks, want)
	}
}

// TestCaughtErrors checks that every error the definition catches is
// one a callback can send (failure.ErrorNames) or the engine's own,
// that every callback task catches every class, and that only SQS
// errors are retried.
func TestCaughtErrors(t *testing.T) {
	engine := []string{"States.Timeout", "States.HeartbeatTimeout"}
	for name, s := range states(t) {
		var caught []string
		for _, c := range s.Catch {
			for _, e := range c.ErrorEquals {
				if !slices.Contains(failure.ErrorNames(), e) && !slices.Contains(engine, e) {
					t.Errorf("%s catches %q, which nothing raises", name, e)
				}
				caught = append(caught, e)
			}
		}
		if strings.HasSuffix(s.Resource, ".waitForTaskToken") {
			for _, e := range append(failure.ErrorNames(), engine...) {
				if !slices.Contains(caught, e) {
					t.Errorf("%s does not catch %s", name, e)
				}
			}
		}
		for _, r := range s.Retry {
			for _, e := range r.ErrorEquals {
				if !strings.HasPrefix(e, "SQS.") {
					t.Errorf("%s retries %q, want SQS errors only", name, e)
				}
			}
		}
	}
}

// TestQueues checks that each message goes to the queue it is for.
func TestQueues(t *testing.T) {
	for name, s := range states(t) {
		if s.Type != "Task" {
			continue
		}
		want := "${OutcomeQueueUrl}"
		if ch, ok := s.Parameters.MessageBody["channel"].(string); ok {
			want = queueURL[channel.Channel(ch)]
		}
		if s.Parameters.QueueURL != want {
			t.Errorf("%s sends to %s, want %s", name, s.Parameters.QueueURL, want)
		}
	}
}

// TestASLValidator runs the pinned npm asl-validator on the definition
// with its placeholders filled in, and on a broken copy to show that
// the check can fail.
func TestASLValidator(t *testing.T) {
	bin := filepath.Join(moduleRoot(t), "node_modules", ".bin", "asl-validator")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("asl-validator not installed (run make test, which runs npm ci): %v", err)
	}
	def, err := Definition(fakeSubs())
	if err != nil {
		t.Fatalf("Definition: %v", err)
	}
	tests := []struct {
		name      string
		def       string
		wantValid bool
	}{
		{"the definition", def, true},
		{"a Next to no state", strings.Replace(def,
			`"Next": "Delivered"`, `"Next": "Nowhere"`, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "cascade.asl.json")
			if err := os.WriteFile(file, []byte(tt.def), 0o600); err != nil {
				t.Fatalf("write definition: %v", err)
			}
			out, err := exec.Command(bin, "--json-path", file).CombinedOutput()
			if gotValid := err == nil; gotValid != tt.wantValid {
				t.Errorf("asl-validator valid = %v, want %v: %v\n%s",
					gotValid, tt.wantValid, err, out)
			}
		})
	}
}

// moduleRoot walks up from the package to the folder with go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("look for go.mod: %v", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package")
		}
		dir = parent
	}
}
