package fanout

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cascade-oss/cascade/internal/campaign"
	"github.com/cascade-oss/cascade/internal/logging"
	"github.com/cascade-oss/cascade/internal/phone"
)

// object serves one uploaded file from memory, honouring the
// "bytes=N-" ranges the chunks ask for, as S3 does.
type object []byte

func (o object) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b := []byte(o)
	if in.Range != nil {
		var from int
		if _, err := fmt.Sscanf(*in.Range, "bytes=%d-", &from); err != nil || from > len(b) {
			return nil, fmt.Errorf("bad range %q for %d bytes", *in.Range, len(b))
		}
		b = b[from:]
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

// readAll reads an uploaded audience chunk by chunk, as fan-out does,
// handing each chunk's message to the next.
func readAll(t *testing.T, file []byte, chunk int) ([]campaign.Row, error) {
	t.Helper()
	h := New(Config{Bucket: "b", ChunkSize: chunk}, nil, nil, nil, object(file),
		logging.New(io.Discard, "fanout"))
	c := campaign.Campaign{ID: "c1", Audience: campaign.Audience{S3Key: "uploads/t1/c1.csv"}}
	m := &Message{Tenant: "t1", Campaign: "c1", Row: 1}
	var all []campaign.Row
	for calls := 0; m != nil; calls++ {
		if calls > len(file)+2 {
			t.Fatalf("chunk size %d: still reading after %d chunks of a %d-byte file", chunk, calls, len(file))
		}
		rows, next, err := h.read(context.Background(), c, *m)
		if err != nil {
			return nil, err
		}
		if next != nil && next.Row != m.Row+len(rows) {
			t.Errorf("chunk at row %d read %d rows, next starts at %d", m.Row, len(rows), next.Row)
		}
		all = append(all, rows...)
		m = next
	}
	return all, nil
}

// e164 is what a normalised number must look like.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzAudienceCSV reads uploaded audiences. It never panics; reading
// is deterministic; reading in chunks of any size gives exactly the
// rows of reading the file at once; variables are named by header
// columns; and every number fan-out would accept is E.164 that
// normalises to itself.
func FuzzAudienceCSV(f *testing.F) {
	for _, seed := range []string{
		"phone,name\n+919900000001,Asha\n09900000002,\"Ravi, Jr\"\n",
		"\ufeffPhone , Name\r\n+91-99000-00001,Asha\r\n0091 99000 00003,Meera\r\n990000001,Short\r\n",
		"name,phone,order\nAsha,9900000001,ORD-1\nRavi,9900000002\nMeera,9900000003,ORD-3,extra\n",
		"phone\n\"+91 99000\n00004\"\n9900000005\n",
		"phone,name\n9900000006,\"broken\n9900000007,next\n",
		"phone,name\n9900000008,a \"quote\" inside\n9900000009,ok\n",
		"phone,name,\n9900000012,Asha,\n", "phone\n", "", "\n\n\n", "phone\n\u00a09900000010\n0919900000011\n9191990000\n",
	} {
		f.Add([]byte(seed), uint8(1))
		f.Add([]byte(seed), uint8(2))
	}

	f.Fuzz(func(t *testing.T, file []byte, size uint8) {
		chunk := int(size%7) + 1
		whole, werr := readAll(t, file, 1<<20)
		again, aerr := readAll(t, file, 1<<20)
		if (werr == nil) != (aerr == nil) || !cmp.Equal(whole, again, cmpopts.EquateEmpty()) {
			t.Fatalf("two reads differ: %v, %v", werr, aerr)
		}
		chunked, cerr := readAll(t, file, chunk)
		if (werr == nil) != (cerr == nil) {
			t.Fatalf("whole read err %v, chunks of %d err %v", werr, chunk, cerr)
		}
		if werr != nil {
			return
		}
		if diff := cmp.Diff(whole, chunked, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("chunks of %d differ from one read (-whole +chunks):\n%s", chunk, diff)
		}

		header := headerOf(file)
		for i, r := range whole {
			for k := range r.Vars {
				if k == "" || !header[k] {
					t.Errorf("row %d has variable %q not in the header %v", i+1, k, header)
				}
			}
			num, err := phone.Normalize(r.Phone, "IN", true)
			if err != nil {
				continue
			}
			if !e164.MatchString(string(num)) {
				t.Errorf("row %d: %q accepted as %q, not E.164", i+1, r.Phone, num)
			}
			if again, err := phone.Normalize(string(num), "IN", true); err != nil || again != num {
				t.Errorf("row %d: %q does not normalise to itself: %q, %v", i+1, num, again, err)
			}
		}
	})
}

// headerOf returns the cleaned column names of the file's first
// record.
func headerOf(file []byte) map[string]bool {
	r := csv.NewReader(bytes.NewReader(file))
	r.FieldsPerRecord = -1
	rec, _ := r.Read()
	out := map[string]bool{}
	for _, c := range cleanHeader(rec) {
		out[c] = true
	}
	return out
}
