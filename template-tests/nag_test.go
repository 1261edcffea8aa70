//lint:file-ignore SA1019 the Go CDK bindings offer nothing in place of cxapi.SynthesisMessage yet; the type still reads the synthesis messages cdk-nag writes.

package templatetests

import (
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

func TestNagAwsSolutions(t *testing.T) {
	s := sharedStack(t)
	ann := assertions.Annotations_FromStack(s.stack.Stack)
	pack := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))

	var errs, warns *[]*cxapi.SynthesisMessage
	check(t, "read annotations", func() {
		errs = ann.FindError(jsii.String("*"), pack)
		warns = ann.FindWarning(jsii.String("*"), pack)
	})
	for _, m := range deref(errs) {
		t.Errorf("%s: %s", *m.Id, message(m))
	}
	for _, m := range deref(warns) {
		t.Logf("warning: %s: %s", *m.Id, message(m))
	}
}

func deref(ms *[]*cxapi.SynthesisMessage) []*cxapi.SynthesisMessage {
	if ms == nil {
		return nil
	}
	return *ms
}

func message(m *cxapi.SynthesisMessage) string {
	if m.Entry == nil {
		return ""
	}
	return fmt.Sprint(m.Entry.Data)
}

// minReason is the shortest suppression reason a reviewer would read
// as an argument rather than a label.
const minReason = 60

func TestNagSuppressionReasons(t *testing.T) {
	s := sharedStack(t)
	n := 0
	for _, id := range sortedIDs(s.doc) {
		for _, r := range list(dig(s.doc.Resources[id].Metadata, "cdk_nag", "rules_to_suppress")) {
			n++
			rule, _ := dig(r, "id").(string)
			reason, _ := dig(r, "reason").(string)
			if len(reason) < minReason {
				t.Errorf("%s: %s suppressed with %q, want a reason of %d characters or more",
					s.doc.name(id), rule, reason, minReason)
			}
		}
	}
	t.Logf("%d suppressions", n)
}

func sortedIDs(t template) []string {
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
