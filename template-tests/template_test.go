package templatetests

import (
	"fmt"
	"sort"
	"strings"
)

// template is the part of a CloudFormation template the checks read.
type template struct {
	Parameters map[string]any      `json:"Parameters"`
	Resources  map[string]resource `json:"Resources"`
	Outputs    map[string]any      `json:"Outputs"`
}

// resource is one template resource.
type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	Metadata       map[string]any `json:"Metadata"`
	DeletionPolicy string         `json:"DeletionPolicy"`
}

// ids lists the logical ids of every resource of type typ, sorted.
func (t template) ids(typ string) []string {
	var out []string
	for id, r := range t.Resources {
		if r.Type == typ {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// name is how a message names a resource: its construct path and,
// in brackets, its logical id.
func (t template) name(id string) string {
	path, _ := t.Resources[id].Metadata["aws:cdk:path"].(string)
	if path == "" {
		return id
	}
	return fmt.Sprintf("%s (%s)", strings.TrimSuffix(path, "/Resource"), id)
}

// prop follows keys through nested objects of id's properties.
func (t template) prop(id string, keys ...string) any {
	return dig(t.Resources[id].Properties, keys...)
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// target is the logical id that a Ref or Fn::GetAtt points at, or
// "" for anything else.
func target(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		s, _ := ga[0].(string)
		return s
	}
	return ""
}

// list reads a value that may be one item or a list of them.
func list(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

// statement is one IAM policy statement.
type statement struct {
	policy    string // logical id of its AWS::IAM::Policy
	actions   []string
	resources []any
	effect    string
}

// statements lists the statements of every policy attached to role.
func (t template) statements(role string) []statement {
	var out []statement
	for _, id := range t.ids("AWS::IAM::Policy") {
		if !t.attached(id, role) {
			continue
		}
		for _, s := range list(t.prop(id, "PolicyDocument", "Statement")) {
			out = append(out, newStatement(id, s))
		}
	}
	return out
}

func (t template) attached(policy, role string) bool {
	for _, r := range list(t.prop(policy, "Roles")) {
		if target(r) == role {
			return true
		}
	}
	return false
}

func newStatement(policy string, v any) statement {
	st := statement{policy: policy, resources: list(dig(v, "Resource"))}
	st.effect, _ = dig(v, "Effect").(string)
	for _, a := range list(dig(v, "Action")) {
		s, _ := a.(string)
		st.actions = append(st.actions, s)
	}
	return st
}

// service is the prefix of an IAM action: "sqs" for sqs:SendMessage.
func service(action string) string {
	s, _, _ := strings.Cut(action, ":")
	return s
}

// functionEnv is the environment of function id.
func (t template) functionEnv(id string) map[string]any {
	m, _ := t.prop(id, "Environment", "Variables").(map[string]any)
	return m
}
