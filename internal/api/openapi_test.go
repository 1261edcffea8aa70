package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/channel"
)

// specFile is the API's OpenAPI description, from this package.
var specFile = filepath.Join("..", "..", "api", "openapi.yaml")

// specURL names the description for the schema compiler.
const specURL = "file:///api/openapi.json"

// spec is the parsed OpenAPI description with a schema compiler that
// resolves its $refs.
type spec struct {
	doc map[string]any
	c   *jsonschema.Compiler
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	raw, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	var y any
	if err := yaml.Unmarshal(raw, &y); err != nil {
		t.Fatalf("%s: %v", specFile, err)
	}
	// Through JSON, so numbers and maps have the shapes the schema
	// library expects.
	j, err := json.Marshal(y)
	if err != nil {
		t.Fatalf("%s as JSON: %v", specFile, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1's dialect
	if err := c.AddResource(specURL, doc); err != nil {
		t.Fatal(err)
	}
	m, _ := doc.(map[string]any)
	if v, _ := m["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", v)
	}
	return &spec{doc: m, c: c}
}

// methods are the HTTP methods an operation may have.
var methods = []string{"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"}

// operations returns every described operation as "METHOD /path".
func (s *spec) operations() []string {
	var ops []string
	paths, _ := s.doc["paths"].(map[string]any)
	for p, item := range paths {
		item, _ := item.(map[string]any)
		for _, m := range methods {
			if _, ok := item[strings.ToLower(m)]; ok {
				ops = append(ops, m+" "+p)
			}
		}
	}
	sort.Strings(ops)
	return ops
}

// operation returns the described operation object, or nil.
func (s *spec) operation(op string) map[string]any {
	method, path, _ := strings.Cut(op, " ")
	paths, _ := s.doc["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	o, _ := item[strings.ToLower(method)].(map[string]any)
	return o
}

// pointer escapes a JSON pointer token; the compiler takes the
// pointer as a URL fragment, so braces are percent-encoded too.
func pointer(tokens ...string) string {
	r := strings.NewReplacer("~", "~0", "/", "~1", "{", "%7B", "}", "%7D")
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/" + r.Replace(t))
	}
	return b.String()
}

// resolve follows a local $ref in obj, returning the target and its
// pointer; obj itself if it has none.
func (s *spec) resolve(obj map[string]any, at []string) (map[string]any, []string) {
	ref, ok := obj["$ref"].(string)
	if !ok {
		return obj, at
	}
	toks := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
	var cur any = s.doc
	for _, tk := range toks {
		m, _ := cur.(map[string]any)
		cur = m[tk]
	}
	m, _ := cur.(map[string]any)
	return m, toks
}

// responseSchema compiles the JSON schema of op's answer with code; ok
// is false when op does not list code.
func (s *spec) responseSchema(t *testing.T, op string, code int) (*jsonschema.Schema, bool) {
	t.Helper()
	method, path, _ := strings.Cut(op, " ")
	o := s.operation(op)
	responses, _ := o["responses"].(map[string]any)
	r, ok := responses[strconv.Itoa(code)].(map[string]any)
	if !ok {
		return nil, false
	}
	r, at := s.resolve(r, []string{"paths", path, strings.ToLower(method), "responses", strconv.Itoa(code)})
	content, _ := r["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		t.Fatalf("%s %d: no application/json content described", op, code)
	}
	loc := specURL + "#" + pointer(append(at, "content", "application/json", "schema")...)
	sch, err := s.c.Compile(loc)
	if err != nil {
		t.Fatalf("%s %d: compile %s: %v", op, code, loc, err)
	}
	return sch, true
}

// requestSchema compiles the JSON schema of op's request body, or nil
// when op takes none.
func (s *spec) requestSchema(t *testing.T, op string) *jsonschema.Schema {
	t.Helper()
	method, path, _ := strings.Cut(op, " ")
	if _, ok := s.operation(op)["requestBody"]; !ok {
		return nil
	}
	loc := specURL + "#" + pointer("paths", path, strings.ToLower(method),
		"requestBody", "content", "application/json", "schema")
	sch, err := s.c.Compile(loc)
	if err != nil {
		t.Fatalf("%s: compile request schema: %v", op, err)
	}
	return sch
}

// asJSON decodes a body for the schema validator.
func asJSON(t *testing.T, body string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatalf("body is not JSON: %v: %.200s", err, body)
	}
	return v
}

// do sends one request through Handle and returns the raw answer.
func do(t *testing.T, a *API, tenant, method, path, body string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	req := events.APIGatewayV2HTTPRequest{RawPath: path, Body: body}
	req.RequestContext.HTTP.Method = method
	if tenant != "" {
		req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"tenant": tenant}},
		}
	}
	res, err := a.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("%s %s returned an error: %v", method, path, err)
	}
	return res
}

// Channel connections as the fakes would take them.
const (
	waConnect  = `{"settings":{"phoneNumberId":"100000000000001"},"credentials":{"accessToken":"fake-wa-token","appSecret":"fake-app-secret","verifyToken":"fake-verify"}}`
	rcsConnect = `{"provider":"rbm","settings":{"agentId":"fake-agent"},"credentials":{"accessToken":"fake-rbm-token","clientToken":"fake-client-token"}}`
	smsConnect = `{"credentials":{"authKey":"fake-auth-key"}}`
)

// fixture is one tenant's channels, campaigns and report, made through
// the API.
type fixture struct {
	draft, bare, launched, report string
}

func newFixture(t *testing.T, a *API, tenant string) fixture {
	t.Helper()
	for ch, body := range map[string]string{"whatsapp": waConnect, "rcs": rcsConnect, "sms": smsConnect} {
		if res := do(t, a, tenant, "PUT", "/v1/channels/"+ch, body); res.StatusCode != 200 {
			t.Fatalf("connect %s = %d %s", ch, res.StatusCode, res.Body)
		}
	}
	create := func(body string) string {
		t.Helper()
		res := do(t, a, tenant, "POST", "/v1/campaigns", body)
		var c struct{ ID string }
		if err := json.Unmarshal([]byte(res.Body), &c); err != nil || res.StatusCode != 201 {
			t.Fatalf("create = %d %s", res.StatusCode, res.Body)
		}
		return c.ID
	}
	f := fixture{
		draft:    create(goodCampaign),
		bare:     create(`{"name":"No audience yet","channels":[{"channel":"whatsapp","whatsapp":{"template":"t","language":"en"}}]}`),
		launched: create(strings.Replace(goodCampaign, `"name"`, `"launch": true, "name"`, 1)),
	}
	res := do(t, a, tenant, "POST", "/v1/campaigns/"+f.launched+"/reports", `{"kind":"journey"}`)
	var r struct{ ID string }
	if err := json.Unmarshal([]byte(res.Body), &r); err != nil || res.StatusCode != 202 {
		t.Fatalf("request report = %d %s", res.StatusCode, res.Body)
	}
	f.report = r.ID
	return f
}

// routeWords returns the string literals the router compares path
// segments with, read from its source, and the channel names it
// parses: the vocabulary a route can be made of.
func routeWords(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || !strings.HasSuffix(fn.Name.Name, "oute") {
					continue
				}
				ast.Inspect(fn, func(n ast.Node) bool {
					lit, ok := n.(*ast.BasicLit)
					if ok && lit.Kind == token.STRING {
						if s, err := strconv.Unquote(lit.Value); err == nil && s != "" && !strings.ContainsAny(s, "/ :") {
							seen[s] = true
						}
					}
					return true
				})
			}
		}
	}
	for _, ch := range channel.All {
		seen[string(ch)] = true
	}
	var words []string
	for w := range seen {
		words = append(words, w)
	}
	sort.Strings(words)
	if len(words) < 8 {
		t.Fatalf("router vocabulary = %v; did the route functions move?", words)
	}
	return words
}

// TestOpenAPIDescribesEveryRoute walks the router with every method
// and every path of up to four segments under /v1 made of its own
// words and real ids, and checks that the routes it serves (anything
// but 404 and 405) are exactly the described operations.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	s := loadSpec(t)
	a, _, _ := newAPI(t)
	f := newFixture(t, a, "t1")

	words := append(routeWords(t), f.draft, f.launched, f.report, "x")
	template := strings.NewReplacer(f.draft, "{id}", f.launched, "{id}", f.report, "{reportId}")
	served := map[string]bool{}
	var walk func(path string, depth int)
	walk = func(path string, depth int) {
		for _, m := range methods {
			code := do(t, a, "t1", m, path, "").StatusCode
			if code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
				served[m+" "+template.Replace(path)] = true
			}
		}
		if depth == 4 {
			return
		}
		for _, w := range words {
			walk(path+"/"+w, depth+1)
		}
	}
	walk("/v1", 0)

	var got []string
	for op := range served {
		got = append(got, op)
	}
	sort.Strings(got)
	if diff := cmp.Diff(s.operations(), got); diff != "" {
		t.Errorf("described (-) and served (+) routes differ:\n%s", diff)
	}
}

// apiCase is one request and the status it must get.
type apiCase struct {
	name   string
	op     string // the described operation, "METHOD /path"
	tenant string
	path   string // with {draft}, {bare}, {launched}, {report} filled in
	body   string
	want   int
	// schemaRejects says the description itself refuses the body, as
	// the handler does.
	schemaRejects bool
}

// TestOpenAPIOperations drives every described operation through
// Handle with valid and invalid requests against moto, and checks each
// answer's status is the expected one and listed for the operation,
// and its body matches the response schema. Valid bodies must pass
// the request schema, and bodies marked so must fail it.
func TestOpenAPIOperations(t *testing.T) {
	s := loadSpec(t)
	a, _, _ := newAPI(t)
	f := newFixture(t, a, "t1")
	fill := strings.NewReplacer("{draft}", f.draft, "{bare}", f.bare,
		"{launched}", f.launched, "{report}", f.report)

	const (
		create   = "POST /v1/campaigns"
		unknown  = "0123456789abcdef0123"
		retries  = `{"name":"Reminder","mode":"retries","retry":{"count":2,"intervalSeconds":120},"channels":[{"channel":"sms","sms":{"templateId":"t1","dltTemplateId":"1107160000000000001","dltText":"Hi {#var#}","header":"CSCADE","principalEntityId":"1101160000000000001","category":"transactional","variables":["{{name}}"]}}],"audience":{"recipients":[{"phone":"+919900000002","vars":{"name":"Ravi"}}]}}`
		rcsCard  = `{"name":"Card","region":"IN","channels":[{"channel":"rcs","timeoutSeconds":60,"rcs":{"card":{"title":"Sale","imageUrl":"https://example.com/a.png"},"suggestions":[{"text":"Call","postbackData":"call","dial":"+919900000003"}],"trafficType":"PROMOTION"}}]}`
		noAud    = `{"name":"Launch now","launch":true,"channels":[{"channel":"whatsapp","whatsapp":{"template":"t","language":"en"}}]}`
		bothMode = `{"name":"x","retry":{"count":1,"intervalSeconds":60},"channels":[{"channel":"whatsapp","whatsapp":{"template":"t","language":"en"}}]}`
		smsBad   = `{"name":"x","channels":[{"channel":"sms","sms":{"templateId":"t","dltTemplateId":"11a","dltText":"Hi {#var#}","header":"CS","principalEntityId":"1","category":"loud"}}]}`
		stolen   = `{"name":"x","channels":[{"channel":"whatsapp","whatsapp":{"template":"t","language":"en"}}],"audience":{"s3Key":"uploads/t2/0123456789abcdef0123.csv"}}`
	)
	huge := `{"name":"` + strings.Repeat("a", MaxBody) + `"}`
	rows := make([]string, campaign.MaxRecipients)
	for i := range rows {
		rows[i] = fmt.Sprintf(`{"phone":"+9199%08d","vars":{"name":"Customer %d","order":"ORD-%06d"}}`, i, i, i)
	}
	most := strings.Replace(goodCampaign, `[{"phone": "9900000001", "vars": {"name": "Asha"}}]`,
		"["+strings.Join(rows, ",")+"]", 1)
	tests := []apiCase{
		{"connect whatsapp", "PUT /v1/channels/whatsapp", "t1", "/v1/channels/whatsapp", waConnect, 200, false},
		{"connect whatsapp without settings", "PUT /v1/channels/whatsapp", "t1", "/v1/channels/whatsapp", `{"credentials":{}}`, 400, true},
		{"connect whatsapp as another provider", "PUT /v1/channels/whatsapp", "t1", "/v1/channels/whatsapp", `{"provider":"rbm","settings":{"phoneNumberId":"1"},"credentials":{"accessToken":"a","appSecret":"b","verifyToken":"c"}}`, 400, true},
		{"connect whatsapp with an unknown field", "PUT /v1/channels/whatsapp", "t1", "/v1/channels/whatsapp", `{"secret":"x"}`, 400, true},
		{"connect whatsapp with a body over 4 MiB", "PUT /v1/channels/whatsapp", "t1", "/v1/channels/whatsapp", huge, 413, true},
		{"connect whatsapp with a setting without a name", "PUT /v1/channels/whatsapp", "t1", "/v1/channels/whatsapp", `{"settings":{"phoneNumberId":"1","":"x"},"credentials":{"accessToken":"a","appSecret":"b","verifyToken":"c"}}`, 400, true},
		{"connect whatsapp with 40 KiB of credentials", "PUT /v1/channels/whatsapp", "t1", "/v1/channels/whatsapp", `{"settings":{"phoneNumberId":"1"},"credentials":{"accessToken":"` + strings.Repeat("a", 40<<10) + `","appSecret":"b","verifyToken":"c"}}`, 400, true},
		{"whatsapp connection", "GET /v1/channels/whatsapp", "t1", "/v1/channels/whatsapp", "", 200, false},
		{"whatsapp of a tenant without one", "GET /v1/channels/whatsapp", "t3", "/v1/channels/whatsapp", "", 404, false},
		{"no tenant claim", "GET /v1/channels/whatsapp", "", "/v1/channels/whatsapp", "", 401, false},
		{"connect rcs", "PUT /v1/channels/rcs", "t1", "/v1/channels/rcs", rcsConnect, 200, false},
		{"connect rcs without credentials", "PUT /v1/channels/rcs", "t1", "/v1/channels/rcs", `{"settings":{"agentId":"a"}}`, 400, true},
		{"rcs connection", "GET /v1/channels/rcs", "t1", "/v1/channels/rcs", "", 200, false},
		{"rcs of a tenant without one", "GET /v1/channels/rcs", "t3", "/v1/channels/rcs", "", 404, false},
		{"connect sms", "PUT /v1/channels/sms", "t1", "/v1/channels/sms", smsConnect, 200, false},
		{"connect sms with a number for a key", "PUT /v1/channels/sms", "t1", "/v1/channels/sms", `{"credentials":{"authKey":5}}`, 400, true},
		{"sms connection", "GET /v1/channels/sms", "t1", "/v1/channels/sms", "", 200, false},
		{"sms of a tenant without one", "GET /v1/channels/sms", "t3", "/v1/channels/sms", "", 404, false},

		{"create a fallback campaign", create, "t1", "/v1/campaigns", goodCampaign, 201, false},
		{"create a retries campaign", create, "t1", "/v1/campaigns", retries, 201, false},
		{"create an rcs card draft", create, "t1", "/v1/campaigns", rcsCard, 201, false},
		{"create and launch", create, "t1", "/v1/campaigns", strings.Replace(retries, `"name"`, `"launch":true,"name"`, 1), 201, false},
		{"create with no body", create, "t1", "/v1/campaigns", "", 400, false},
		{"create with broken JSON", create, "t1", "/v1/campaigns", `{"name":`, 400, false},
		{"create with a wrong type", create, "t1", "/v1/campaigns", `{"name":5}`, 400, true},
		{"create and launch without audience", create, "t1", "/v1/campaigns", noAud, 400, true},
		{"create in fallback mode with a retry", create, "t1", "/v1/campaigns", bothMode, 400, true},
		{"create with a bad sms step", create, "t1", "/v1/campaigns", smsBad, 400, true},
		{"create with another tenant's upload", create, "t1", "/v1/campaigns", stolen, 400, false},
		{"create with more inline recipients than an item holds", create, "t1", "/v1/campaigns", most, 413, false},
		{"create with a body over 4 MiB", create, "t1", "/v1/campaigns", huge, 413, true},

		{"campaign", "GET /v1/campaigns/{id}", "t1", "/v1/campaigns/{draft}", "", 200, false},
		{"launched campaign", "GET /v1/campaigns/{id}", "t1", "/v1/campaigns/{launched}", "", 200, false},
		{"unknown campaign", "GET /v1/campaigns/{id}", "t1", "/v1/campaigns/" + unknown, "", 404, false},
		{"malformed campaign id", "GET /v1/campaigns/{id}", "t1", "/v1/campaigns/NOT-AN-ID", "", 404, false},
		{"stats of a draft", "GET /v1/campaigns/{id}/stats", "t1", "/v1/campaigns/{draft}/stats", "", 200, false},
		{"stats of an unknown campaign", "GET /v1/campaigns/{id}/stats", "t1", "/v1/campaigns/" + unknown + "/stats", "", 404, false},

		{"launch without audience", "POST /v1/campaigns/{id}/launch", "t1", "/v1/campaigns/{bare}/launch", "", 400, false},
		{"upload link", "POST /v1/campaigns/{id}/audience-upload-url", "t1", "/v1/campaigns/{bare}/audience-upload-url", "", 200, false},
		{"upload link after launch", "POST /v1/campaigns/{id}/audience-upload-url", "t1", "/v1/campaigns/{launched}/audience-upload-url", "", 409, false},
		{"upload link of an unknown campaign", "POST /v1/campaigns/{id}/audience-upload-url", "t1", "/v1/campaigns/" + unknown + "/audience-upload-url", "", 404, false},
		{"launch", "POST /v1/campaigns/{id}/launch", "t1", "/v1/campaigns/{draft}/launch", "", 202, false},
		{"launch again", "POST /v1/campaigns/{id}/launch", "t1", "/v1/campaigns/{draft}/launch", "", 409, false},
		{"launch an unknown campaign", "POST /v1/campaigns/{id}/launch", "t1", "/v1/campaigns/" + unknown + "/launch", "", 404, false},
		{"cancel", "POST /v1/campaigns/{id}/cancel", "t1", "/v1/campaigns/{bare}/cancel", "", 200, false},
		{"cancel again", "POST /v1/campaigns/{id}/cancel", "t1", "/v1/campaigns/{bare}/cancel", "", 409, false},
		{"cancel an unknown campaign", "POST /v1/campaigns/{id}/cancel", "t1", "/v1/campaigns/" + unknown + "/cancel", "", 404, false},

		{"request a report", "POST /v1/campaigns/{id}/reports", "t1", "/v1/campaigns/{launched}/reports", `{"kind":"whatsapp"}`, 202, false},
		{"request a report of an unknown kind", "POST /v1/campaigns/{id}/reports", "t1", "/v1/campaigns/{launched}/reports", `{"kind":"pdf"}`, 400, true},
		{"request a report with a body over 4 MiB", "POST /v1/campaigns/{id}/reports", "t1", "/v1/campaigns/{launched}/reports", huge, 413, true},
		{"request a report of an unknown campaign", "POST /v1/campaigns/{id}/reports", "t1", "/v1/campaigns/" + unknown + "/reports", `{"kind":"sms"}`, 404, false},
		{"report", "GET /v1/campaigns/{id}/reports/{reportId}", "t1", "/v1/campaigns/{launched}/reports/{report}", "", 200, false},
		{"unknown report", "GET /v1/campaigns/{id}/reports/{reportId}", "t1", "/v1/campaigns/{launched}/reports/" + unknown, "", 404, false},
		{"report under another campaign", "GET /v1/campaigns/{id}/reports/{reportId}", "t1", "/v1/campaigns/{draft}/reports/{report}", "", 404, false},
	}
	covered := map[string]map[bool]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s.operation(tt.op) == nil {
				t.Fatalf("%s is not described", tt.op)
			}
			method, _, _ := strings.Cut(tt.op, " ")
			res := do(t, a, tt.tenant, method, fill.Replace(tt.path), tt.body)
			if res.StatusCode != tt.want {
				t.Errorf("status = %d (%.300s), want %d", res.StatusCode, res.Body, tt.want)
			}
			if ct := res.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			sch, listed := s.responseSchema(t, tt.op, res.StatusCode)
			if !listed {
				t.Fatalf("%d is not described for %s", res.StatusCode, tt.op)
			}
			if err := sch.Validate(asJSON(t, res.Body)); err != nil {
				t.Errorf("answer breaks the description: %v\nbody: %.500s", err, res.Body)
			}
			if req := s.requestSchema(t, tt.op); req != nil && json.Valid([]byte(tt.body)) && len(tt.body) < MaxBody {
				err := req.Validate(asJSON(t, tt.body))
				switch {
				case tt.want < 300 && err != nil:
					t.Errorf("the description refuses a body the API takes: %v", err)
				case tt.schemaRejects && err == nil:
					t.Errorf("the description takes a body the API refuses")
				}
			}
		})
		ok := covered[tt.op]
		if ok == nil {
			ok = map[bool]bool{}
		}
		ok[tt.want < 300] = true
		covered[tt.op] = ok
	}
	for _, op := range s.operations() {
		if !covered[op][true] || !covered[op][false] {
			t.Errorf("%s: want a case that succeeds and one that fails, have %v", op, covered[op])
		}
	}
}

// TestIsolationEveryRoute tries every described operation as another
// tenant, with t1's real ids and with guessed ones: each that names a
// resource is a 404, no answer holds anything of t1's, and t1's
// campaigns are unchanged afterwards.
func TestIsolationEveryRoute(t *testing.T) {
	s := loadSpec(t)
	a, _, _ := newAPI(t)
	f := newFixture(t, a, "t1")
	before := map[string]string{}
	for _, id := range []string{f.draft, f.bare, f.launched} {
		before[id] = do(t, a, "t1", "GET", "/v1/campaigns/"+id, "").Body
	}
	secrets := []string{"t1", f.draft, f.bare, f.launched, f.report, "Order shipped",
		"100000000000001", "fake-agent", "fake-wa-token", "fake-auth-key"}

	// t2's own bodies share nothing with t1's, so an echo is no leak.
	bodies := map[string]string{
		"PUT /v1/channels/whatsapp":       `{"settings":{"phoneNumberId":"200000000000002"},"credentials":{"accessToken":"a","appSecret":"b","verifyToken":"c"}}`,
		"PUT /v1/channels/rcs":            `{"settings":{"agentId":"agent-two"},"credentials":{"accessToken":"a","clientToken":"b"}}`,
		"PUT /v1/channels/sms":            `{"credentials":{"authKey":"key-two"}}`,
		"POST /v1/campaigns":              strings.Replace(goodCampaign, "Order shipped", "Second tenant", 1),
		"POST /v1/campaigns/{id}/reports": `{"kind":"journey"}`,
	}
	ids := []struct{ name, campaign, report string }{
		{"t1's ids", f.launched, f.report},
		{"t1's draft", f.draft, f.report},
		{"guessed ids", "00000000000000000000", "ffffffffffffffffffff"},
		{"guessed ids near t1's", f.draft[:19] + "0", f.report[:19] + "1"},
	}
	for _, op := range s.operations() {
		for _, id := range ids {
			method, path, _ := strings.Cut(op, " ")
			path = strings.NewReplacer("{id}", id.campaign, "{reportId}", id.report).Replace(path)
			t.Run(fmt.Sprintf("%s with %s", op, id.name), func(t *testing.T) {
				// t2 reads channels before connecting its own, so the
				// GETs cannot find t2's.
				res := do(t, a, "t2", method, path, bodies[op])
				names := strings.Contains(op, "{id}") || method == "GET"
				if names && res.StatusCode != http.StatusNotFound {
					t.Errorf("t2 %s %s = %d %.300s, want 404", method, path, res.StatusCode, res.Body)
				}
				for _, v := range secrets {
					if strings.Contains(res.Body, v) {
						t.Errorf("t2 %s %s answer holds t1's %q: %.300s", method, path, v, res.Body)
					}
				}
			})
		}
	}
	for id, want := range before {
		if got := do(t, a, "t1", "GET", "/v1/campaigns/"+id, "").Body; got != want {
			t.Errorf("t1's campaign %s changed under t2:\nbefore %s\nafter  %s", id, want, got)
		}
	}
}
