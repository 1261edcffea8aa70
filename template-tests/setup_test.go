package templatetests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/cascade-oss/cascade/infra/stack"
	"github.com/cascade-oss/cascade/internal/cascade"
)

// tmp holds the fake function assets and every cloud assembly the
// tests write; TestMain removes it.
var tmp string

// assetDir holds a fake bootstrap for every function, so the tests
// need no cross-compiled binaries.
var assetDir string

// TestMain prepares the assets and closes jsii's node process at the
// end. The Makefile exports JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION;
// setting it here would be too late, as jsii reads the environment
// while packages initialise.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer jsii.Close()
	var err error
	if tmp, err = os.MkdirTemp("", "cascade-template-tests-"); err != nil {
		fmt.Fprintln(os.Stderr, "template tests:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if assetDir, err = fakeAssets(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "template tests:", err)
		return 1
	}
	return m.Run()
}

// fakeAssets writes root/assets/<name>/bootstrap for every function
// and returns root/assets.
func fakeAssets(root string) (string, error) {
	dir := filepath.Join(root, "assets")
	for _, name := range stack.FunctionNames() {
		fn := filepath.Join(dir, name)
		if err := os.MkdirAll(fn, 0o755); err != nil {
			return "", fmt.Errorf("make asset dir: %w", err)
		}
		boot := []byte("fake bootstrap for " + name)
		if err := os.WriteFile(filepath.Join(fn, "bootstrap"), boot, 0o755); err != nil {
			return "", fmt.Errorf("write fake bootstrap: %w", err)
		}
	}
	return dir, nil
}

// synthed is one synthesized stack.
type synthed struct {
	stack *stack.CascadeStack
	tmpl  assertions.Template
	doc   template
	raw   []byte // the template as CDK wrote it
	def   string // the ASL the stack was given
}

var shared struct {
	once sync.Once
	s    *synthed
	err  error
}

// sharedStack is the stack every read-only test inspects, synthesized
// once per test binary, with cdk-nag's AwsSolutions checks applied.
func sharedStack(t *testing.T) *synthed {
	t.Helper()
	shared.once.Do(func() {
		shared.s, shared.err = synth(variant{nag: true})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.s
}

// variant says how a test's stack differs from the real one.
type variant struct {
	nag    bool                      // apply cdk-nag's AwsSolutions checks
	edit   func(def string) string   // change the definition
	change func(*stack.CascadeStack) // change the stack
}

// synth builds the stack as v says and synthesizes it.
func synth(v variant) (s *synthed, err error) {
	def := cascade.RawDefinition()
	if v.edit != nil {
		def = v.edit(def)
	}
	// Annotations are read back from the assembly, so it stays.
	out, err := os.MkdirTemp(tmp, "cdk.out-")
	if err != nil {
		return nil, fmt.Errorf("make cdk out dir: %w", err)
	}

	err = try(func() {
		app := awscdk.NewApp(&awscdk.AppProps{
			Outdir:             jsii.String(out),
			AnalyticsReporting: jsii.Bool(false),
			Context: &map[string]interface{}{
				"aws:cdk:enable-path-metadata": true,
			},
		})
		st := stack.NewCascadeStack(app, "Cascade", &stack.CascadeStackProps{
			Definition: def,
			AssetDir:   assetDir,
		})
		if v.change != nil {
			v.change(st)
		}
		if v.nag {
			awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
				Verbose: jsii.Bool(true),
				Reports: jsii.Bool(false),
			}), nil)
		}
		s = &synthed{stack: st, def: def}
		s.tmpl = assertions.Template_FromStack(st.Stack, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("synthesize: %w", err)
	}
	if s.raw, err = json.Marshal(s.tmpl.ToJSON()); err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	if err := json.Unmarshal(s.raw, &s.doc); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	return s, nil
}

// try runs f and turns a panic, which is how jsii reports a failed
// assertion or a synthesis error, into an error.
func try(f func()) (err error) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case error:
			err = r
		default:
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	f()
	return nil
}

// check reports through t whatever f panics with.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	if err := try(f); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}
