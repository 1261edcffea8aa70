package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestLaunchSealsTheAudience uploads audience files through the
// presigned link on moto's S3 and launches: a launch copies the file
// where no link can write, so a PUT after launch changes nothing fan-out
// reads, and a missing, empty or header-only file is a 400 naming
// audience.s3Key instead of a fan-out that never ends.
func TestLaunchSealsTheAudience(t *testing.T) {
	tests := []struct {
		name     string
		upload   *string // nil: nothing uploaded
		wantCode int
		wantMsg  string
	}{
		{"nothing uploaded", nil, 400, "no file has been uploaded"},
		{"empty file", ptr(""), 400, "the file is empty"},
		{"header only", ptr("phone,name\n"), 400, "header row but no recipients"},
		{"blank header", ptr(",,\n9900000001\n"), 400, "names no column"},
		{"a recipient", ptr("phone,name\n9900000001,Asha\n"), 202, ""},
		{"a recipient, no final newline", ptr("phone\n9900000001"), 202, ""},
	}
	a, _, _ := newAPI(t)
	links := a.uploads.(S3Links)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, c := call(t, a, "t1", "POST", "/v1/campaigns", strings.Replace(goodCampaign,
				`"audience": {"recipients": [{"phone": "9900000001", "vars": {"name": "Asha"}}]}`, `"audience": {}`, 1))
			if code != 201 {
				t.Fatalf("create = %d %v", code, c)
			}
			id := c["id"].(string)
			code, link := call(t, a, "t1", "POST", "/v1/campaigns/"+id+"/audience-upload-url", "")
			if code != 200 {
				t.Fatalf("upload link = %d %v", code, link)
			}
			if tt.upload != nil {
				put(t, link["url"].(string), *tt.upload)
			}
			code, res := call(t, a, "t1", "POST", "/v1/campaigns/"+id+"/launch", "")
			if code != tt.wantCode {
				t.Fatalf("launch = %d %v, want %d", code, res, tt.wantCode)
			}
			if tt.wantCode != 202 {
				if !strings.Contains(res["error"].(string), "audience.s3Key") || !strings.Contains(res["error"].(string), tt.wantMsg) {
					t.Errorf("error = %q, want audience.s3Key and %q", res["error"], tt.wantMsg)
				}
				// A refused launch leaves a draft that can be fixed.
				if code, got := call(t, a, "t1", "GET", "/v1/campaigns/"+id, ""); code != 200 || got["state"] != "draft" {
					t.Errorf("after a refused launch: %d %v, want a draft", code, got)
				}
				return
			}
			sealed := res["audience"].(map[string]any)["s3Key"].(string)
			if sealed != "audiences/t1/"+id+".csv" {
				t.Errorf("launched audience key = %q", sealed)
			}
			// The old link still signs a PUT; it lands on the upload
			// key, which nothing reads any more.
			put(t, link["url"].(string), "phone\n9900000999\n")
			if got := read(t, links, sealed); got != *tt.upload {
				t.Errorf("sealed audience = %q, want the file as launched %q", got, *tt.upload)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func put(t *testing.T, url, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		msg, _ := io.ReadAll(res.Body)
		t.Fatalf("PUT upload = %d %s", res.StatusCode, msg)
	}
}

func read(t *testing.T, l S3Links, key string) string {
	t.Helper()
	obj, err := l.S3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(l.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
