// Package report exports a campaign as CSV files people download: one
// row per attempt on a channel, one row per recipient's journey, or one
// row per refused audience row. Pages from the store stream straight
// into an S3 multipart upload, so memory stays flat at any size.
package report

import (
	"encoding/csv"
	"io"
	"strings"
)

// Writer writes CSV rows whose cells cannot run as spreadsheet
// formulas: a cell that starts with =, +, -, @, a tab or a carriage
// return gets a leading apostrophe, which spreadsheets show as text.
type Writer struct {
	w   *csv.Writer
	buf []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one row.
func (w *Writer) Write(cells ...string) error {
	w.buf = w.buf[:0]
	for _, c := range cells {
		w.buf = append(w.buf, Neutralise(c))
	}
	return w.w.Write(w.buf)
}

// Flush writes buffered rows and returns any error so far.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// Neutralise makes one cell safe to open in a spreadsheet.
func Neutralise(c string) string {
	if c == "" {
		return c
	}
	if strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}
