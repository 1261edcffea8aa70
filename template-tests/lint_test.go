package templatetests

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tools the lint tests run; make installs both.
const (
	aslValidator = "../node_modules/.bin/asl-validator"
	cfnLint      = "../.venv/bin/cfn-lint"
	cfnLintRC    = "testdata/cfnlintrc.yaml"
)

func TestASLValidator(t *testing.T) {
	t.Parallel()
	s := sharedStack(t)
	def := s.def
	for _, p := range placeholders(def) {
		url := "https://sqs.ap-south-1.amazonaws.com/123456789012/" + p
		def = strings.ReplaceAll(def, "${"+p+"}", url)
	}
	if strings.Contains(def, "${") {
		t.Fatalf("definition still holds a placeholder after substitution")
	}
	path := filepath.Join(t.TempDir(), "definition.asl.json")
	if err := os.WriteFile(path, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, aslValidator, "--json-path", path)
}

func TestCfnLint(t *testing.T) {
	t.Parallel()
	s := sharedStack(t)
	path := filepath.Join(t.TempDir(), "Cascade.template.json")
	if err := os.WriteFile(path, s.raw, 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, cfnLint, "--config-file", cfnLintRC, "--", path)
}

// runTool runs a tool and fails the test with its output unless it
// exits 0.
func runTool(t *testing.T, tool string, args ...string) {
	t.Helper()
	if _, err := os.Stat(tool); err != nil {
		t.Fatalf("%s is missing (make test installs it): %v", tool, err)
	}
	var out bytes.Buffer
	cmd := exec.Command(tool, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Errorf("%s exited %d:\n%s", filepath.Base(tool), exit.ExitCode(), out.String())
	case err != nil:
		t.Fatalf("run %s: %v", tool, err)
	}
}
