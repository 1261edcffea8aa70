package fanout

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cascade-oss/cascade/internal/campaign"
)

// read returns the chunk's rows and the message for the chunk after
// it, or nil when the chunk ends the audience.
func (h *Handler) read(ctx context.Context, c campaign.Campaign, m Message) ([]campaign.Row, *Message, error) {
	if c.Audience.S3Key == "" {
		return h.inline(c, m)
	}
	return h.csv(ctx, c, m)
}

func (h *Handler) inline(c campaign.Campaign, m Message) ([]campaign.Row, *Message, error) {
	all := c.Audience.Recipients
	from := m.Row - 1
	if from >= len(all) {
		return nil, nil, nil
	}
	to := min(from+h.cfg.ChunkSize, len(all))
	var next *Message
	if to < len(all) {
		next = &Message{Tenant: m.Tenant, Campaign: m.Campaign, Row: to + 1}
	}
	return all[from:to], next, nil
}

// csv reads up to a chunk of rows of the uploaded CSV from the byte
// offset where the previous chunk stopped, so no chunk reads the file
// from its start. The header row names the template variables; the
// column named phone (or else the first column) holds the number.
func (h *Handler) csv(ctx context.Context, c campaign.Campaign, m Message) ([]campaign.Row, *Message, error) {
	in := &s3.GetObjectInput{
		Bucket: aws.String(h.cfg.Bucket), Key: aws.String(c.Audience.S3Key),
	}
	if m.Offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", m.Offset))
	}
	obj, err := h.objects.GetObject(ctx, in)
	if err != nil {
		return nil, nil, fmt.Errorf("read audience %s: %w", c.Audience.S3Key, err)
	}
	defer obj.Body.Close()

	r := csv.NewReader(obj.Body)
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header := m.Header
	if m.Offset == 0 {
		header, err = r.Read()
		if err != nil {
			return nil, nil, fmt.Errorf("read audience header: %w", err)
		}
		header = cleanHeader(header)
	}
	rows, err := readRows(r, header, h.cfg.ChunkSize)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) < h.cfg.ChunkSize {
		return rows, nil, nil
	}
	// Peek: a chunk that ends exactly at the end of the file has no
	// next chunk.
	offset := m.Offset + r.InputOffset()
	if _, err := r.Read(); errors.Is(err, io.EOF) {
		return rows, nil, nil
	}
	next := &Message{Tenant: m.Tenant, Campaign: m.Campaign,
		Row: m.Row + len(rows), Offset: offset, Header: header}
	return rows, next, nil
}

// readRows reads up to n records as audience rows. A record the CSV
// reader cannot parse is kept as a row whose raw text fails
// validation, so it is reported rather than lost.
func readRows(r *csv.Reader, header []string, n int) ([]campaign.Row, error) {
	phoneCol := 0
	for i, h := range header {
		if h == "phone" {
			phoneCol = i
		}
	}
	var rows []campaign.Row
	for len(rows) < n {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			rows = append(rows, campaign.Row{Unreadable: "malformed CSV line: " + perr.Err.Error()})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read audience: %w", err)
		}
		row := campaign.Row{Vars: map[string]string{}}
		for i, v := range rec {
			switch {
			case i == phoneCol:
				row.Phone = v
			case i < len(header) && header[i] != "":
				// A column without a name (a trailing comma in the
				// header) fills no template, and DynamoDB refuses an
				// empty map key, which would fail the chunk forever.
				row.Vars[header[i]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// cleanHeader trims column names and drops a UTF-8 byte order mark,
// which spreadsheets like to write.
func cleanHeader(h []string) []string {
	out := make([]string, len(h))
	for i, c := range h {
		c = strings.TrimPrefix(c, "\ufeff")
		out[i] = strings.ToLower(strings.TrimSpace(c))
	}
	return out
}

// CheckHead checks the first bytes of an audience file before launch:
// a header row and at least one row after it. head may end mid-row; a
// row cut short still counts as a row.
func CheckHead(head []byte) error {
	r := csv.NewReader(bytes.NewReader(head))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return errors.New("the file is empty; upload a CSV with a header row (phone, then template columns)")
	}
	if err != nil && !errors.As(err, new(*csv.ParseError)) {
		return fmt.Errorf("the header row cannot be read: %w", err)
	}
	named := false
	for _, h := range cleanHeader(header) {
		named = named || h != ""
	}
	if !named {
		return errors.New("the header row names no column")
	}
	if _, err := r.Read(); errors.Is(err, io.EOF) {
		return errors.New("the file has a header row but no recipients")
	}
	return nil
}
