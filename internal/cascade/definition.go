package cascade

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// rawDefinition is the state machine in Amazon States Language, with
// ${Name} placeholders for the queue URLs. It is written by
// TestDefinitionIsBuilt -update from the builder in build_test.go.
//
//go:embed definition.asl.json
var rawDefinition string

// placeholder matches one ${Name} in the definition. JSONPath's $$ and
// $. never match it.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// RawDefinition returns the definition with its placeholders in place,
// for the CDK app's DefinitionSubstitutions.
func RawDefinition() string { return rawDefinition }

// Placeholders returns the names (without ${}) of every placeholder in
// the definition, sorted: OutcomeQueueUrl, RcsQueueUrl, SmsQueueUrl
// and WhatsAppQueueUrl.
func Placeholders() []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(rawDefinition, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return names
}

// Definition returns the definition with each placeholder replaced by
// subs[name], as the local stack needs it. Values are escaped for a
// JSON string. A missing or unknown name is an error.
func Definition(subs map[string]string) (string, error) {
	names := Placeholders()
	var missing, unknown []string
	for _, n := range names {
		if _, ok := subs[n]; !ok {
			missing = append(missing, n)
		}
	}
	for n := range subs {
		if !slices.Contains(names, n) {
			unknown = append(unknown, n)
		}
	}
	if len(missing) > 0 || len(unknown) > 0 {
		slices.Sort(unknown)
		return "", fmt.Errorf("cascade definition: missing substitutions %v, unknown %v",
			missing, unknown)
	}

	out := placeholder.ReplaceAllStringFunc(rawDefinition, func(m string) string {
		return jsonEscape(subs[m[2:len(m)-1]])
	})
	return out, nil
}

// jsonEscape returns s as it must appear between a JSON string's
// quotes.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return strings.TrimSuffix(strings.TrimPrefix(string(b), `"`), `"`)
}
