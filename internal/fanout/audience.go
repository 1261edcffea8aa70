package fanout

import (
	"bufio"
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
//
// Each line is parsed on its own. A whole-file CSV reader lets one
// unclosed quote swallow every line after it into a single broken
// field, and those recipients were neither sent nor reported; line by
// line, a broken line is one refused row. The cost is that a quoted
// cell spanning lines is refused too, which audience files never need.
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

	lr := newLineReader(obj.Body, m.Offset)
	header := m.Header
	if m.Offset == 0 {
		line, _, err := lr.next()
		if err != nil {
			return nil, nil, fmt.Errorf("read audience header: %w", err)
		}
		rec, perr := parseLine(line)
		if perr != nil {
			return nil, nil, fmt.Errorf("read audience header: %w", perr)
		}
		header = cleanHeader(rec)
	}
	phoneCol := 0
	for i, name := range header {
		if name == "phone" {
			phoneCol = i
		}
	}
	var rows []campaign.Row
	for len(rows) < h.cfg.ChunkSize {
		line, _, err := lr.next()
		if errors.Is(err, io.EOF) {
			return rows, nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read audience: %w", err)
		}
		rows = append(rows, toRow(line, header, phoneCol))
	}
	// Peek: a chunk that ends exactly at the end of the file has no
	// next chunk.
	_, at, err := lr.next()
	if errors.Is(err, io.EOF) {
		return rows, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read audience: %w", err)
	}
	next := &Message{Tenant: m.Tenant, Campaign: m.Campaign,
		Row: m.Row + len(rows), Offset: at, Header: header}
	return rows, next, nil
}

// toRow turns one line into an audience row. A line the CSV rules
// cannot read becomes a row that is refused with the reason, so it is
// reported rather than lost.
func toRow(line string, header []string, phoneCol int) campaign.Row {
	if line == tooLong {
		return campaign.Row{Unreadable: "line longer than 64 KiB"}
	}
	rec, err := parseLine(line)
	if err != nil {
		return campaign.Row{Unreadable: "malformed CSV line: " + err.Error()}
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
	return row
}

// parseLine reads one CSV record from one line.
func parseLine(line string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(line))
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return nil, perr.Err
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.Read(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one record on the line")
	}
	return rec, nil
}

// maxLine is the longest audience line read; a longer one is refused.
const maxLine = 64 << 10

// tooLong stands for a line over maxLine; no CSV line can equal it.
const tooLong = "\x00line longer than 64 KiB"

// lineReader hands out an audience file's non-blank lines with the byte
// offset each starts at, which is where a chunk that begins there asks
// S3 to start reading.
type lineReader struct {
	br     *bufio.Reader
	offset int64
}

func newLineReader(r io.Reader, offset int64) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, maxLine), offset: offset}
}

// next returns the next non-blank line without its line ending, and its
// offset; io.EOF when none is left. A line over maxLine comes back as
// one that fails to parse, and the reader moves past it.
func (l *lineReader) next() (string, int64, error) {
	for {
		at := l.offset
		b, err := l.br.ReadSlice('\n')
		l.offset += int64(len(b))
		line := string(b)
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = l.br.ReadSlice('\n')
				l.offset += int64(len(b))
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return "", at, err
			}
			return tooLong, at, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", at, err
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) != "" {
			return line, at, nil
		}
		if err != nil {
			return "", at, io.EOF
		}
	}
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
	lr := newLineReader(bytes.NewReader(head), 0)
	line, _, err := lr.next()
	if errors.Is(err, io.EOF) {
		return errors.New("the file is empty; upload a CSV with a header row (phone, then template columns)")
	}
	if err != nil {
		return fmt.Errorf("the header row cannot be read: %w", err)
	}
	header, err := parseLine(line)
	if err != nil {
		return fmt.Errorf("the header row cannot be read: %w", err)
	}
	named := false
	for _, h := range cleanHeader(header) {
		named = named || h != ""
	}
	if !named {
		return errors.New("the header row names no column")
	}
	if _, _, err := lr.next(); errors.Is(err, io.EOF) {
		return errors.New("the file has a header row but no recipients")
	}
	return nil
}
