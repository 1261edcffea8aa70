package templatetests

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite "+goldenFile)

const goldenFile = "testdata/template.golden.json"

func TestGolden(t *testing.T) {
	got, err := normalise(sharedStack(t).raw)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (go test ./template-tests -update writes it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", goldenFile, err)
	}
	t.Errorf("template differs from %s (-want +got); if the change is intended, "+
		"rerun with -update and review the diff:\n%s", goldenFile, cmp.Diff(w, g))
}

// assetHash matches the content hashes CDK puts in asset keys.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// normalise makes a template comparable across CDK versions, asset
// builds and edits of the ASL: asset hashes become <hash>, the
// bootstrap version check goes, and the definition, checked on its
// own against the ASL file, becomes <definition>.
func normalise(raw []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(assetHash.ReplaceAll(raw, []byte("<hash>")), &doc); err != nil {
		return nil, err
	}
	if params, ok := doc["Parameters"].(map[string]any); ok {
		delete(params, "BootstrapVersion")
	}
	if rules, ok := doc["Rules"].(map[string]any); ok {
		delete(rules, "CheckBootstrapVersion")
		if len(rules) == 0 {
			delete(doc, "Rules")
		}
	}
	resources, _ := doc["Resources"].(map[string]any)
	for _, r := range resources {
		props, _ := dig(r, "Properties").(map[string]any)
		if dig(r, "Type") == "AWS::StepFunctions::StateMachine" && props != nil {
			props["DefinitionString"] = "<definition>"
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
