package devstack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// APIHandler is the shape of the API function's handler.
type APIHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// URLHandler is the shape of a function URL handler.
type URLHandler func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error)

// maxGatewayBody mirrors API Gateway's and function URLs' payload
// limit; the handlers apply their own, smaller limits.
const maxGatewayBody = 6 << 20

// Gateway turns HTTP requests into the events API Gateway (payload
// version 2, JWT authorizer) and Lambda function URLs deliver.
type Gateway struct {
	API      APIHandler
	Webhooks map[string]URLHandler // by path, e.g. /hooks/whatsapp
	JWT      *DevJWT
}

// ServeHTTP routes /v1/… to the API and webhook paths to their
// functions.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxGatewayBody))
	if err != nil {
		http.Error(w, `{"message":"Request Entity Too Large"}`, http.StatusRequestEntityTooLarge)
		return
	}
	if h, ok := g.Webhooks[r.URL.Path]; ok {
		g.functionURL(w, r, h, body)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		g.api(w, r, body)
		return
	}
	http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
}

func (g *Gateway) api(w http.ResponseWriter, r *http.Request, body []byte) {
	// The JWT authorizer answers 401 before the function runs.
	claims, err := g.JWT.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Unauthorized"}`)
		return
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY /v1/{proxy+}",
		RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Headers: flatten(r.Header), Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "$default", RequestID: time.Now().Format("150405.000000"),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: "127.0.0.1",
			},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
			},
		},
	}
	res, err := g.API(invocation(r.Context()), ev)
	if err != nil {
		http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	write(w, res.StatusCode, res.Headers, res.Body)
}

func (g *Gateway) functionURL(w http.ResponseWriter, r *http.Request, h URLHandler, body []byte) {
	ev := events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Headers: flatten(r.Header), Body: string(body),
		RequestContext: events.LambdaFunctionURLRequestContext{
			RequestID: time.Now().Format("150405.000000"),
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: "127.0.0.1",
			},
		},
	}
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = strings.Join(v, ",")
	}
	ev.QueryStringParameters = q
	// Function URLs hand binary or form bodies over in base64, as
	// Lambda does for content that is not text or JSON.
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/") && len(body) > 0 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	res, err := h(invocation(r.Context()), ev)
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	write(w, res.StatusCode, res.Headers, res.Body)
}

// flatten joins repeated headers and lower-cases names, as both event
// types carry them.
func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = strings.Join(v, ",")
	}
	return out
}

func write(w http.ResponseWriter, code int, headers map[string]string, body string) {
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	if code == 0 {
		code = http.StatusOK
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// DevJWT signs and checks the local stack's HS256 tokens, standing in
// for the JWT authorizer in front of the API.
type DevJWT struct{ Secret []byte }

// Sign returns a token for a tenant, valid for ttl.
func (j *DevJWT) Sign(tenant string, ttl time.Duration) string {
	head := b64(`{"alg":"HS256","typ":"JWT"}`)
	claims, _ := json.Marshal(map[string]any{
		"sub": tenant, "tenant": tenant, "iss": "cascade-devstack",
		"exp": time.Now().Add(ttl).Unix(),
	})
	msg := head + "." + b64(string(claims))
	return msg + "." + j.mac(msg)
}

// Verify checks a token's signature and expiry and returns its claims
// as strings, as API Gateway passes them.
func (j *DevJWT) Verify(tok string) (map[string]string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(j.mac(parts[0]+"."+parts[1])), []byte(parts[2])) {
		return nil, errors.New("bad token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	if exp, _ := c["exp"].(float64); int64(exp) < time.Now().Unix() {
		return nil, errors.New("token expired")
	}
	out := map[string]string{}
	for k, v := range c {
		switch t := v.(type) {
		case string:
			out[k] = t
		default:
			b, _ := json.Marshal(t)
			out[k] = string(b)
		}
	}
	return out, nil
}

func (j *DevJWT) mac(msg string) string {
	m := hmac.New(sha256.New, j.Secret)
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
