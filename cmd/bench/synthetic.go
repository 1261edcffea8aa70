package main

import (
	"context"
	"strconv"

	"github.com/cascade-oss/cascade/internal/dynamo"
)

// synthetic is an in-process page source: N numbers, each
// with one attempt per channel in Channels, failed and moved on until
// the last, which delivered. Items are made as they are read, so the
// export's memory is measured, not the data's.
type synthetic struct {
	N        int
	Channels []string
}

func syntheticPhone(buf []byte, i int) string {
	buf = append(buf[:0], "+9199"...)
	n := strconv.AppendInt(nil, int64(i), 10)
	for pad := 8 - len(n); pad > 0; pad-- {
		buf = append(buf, '0')
	}
	return string(append(buf, n...))
}

// Attempts yields every attempt in key order.
func (s synthetic) Attempts(_ context.Context, c string, fn func(dynamo.Attempt) error) error {
	var buf []byte
	failed := map[string]string{"queued": "2026-12-04T10:00:00.000Z", "failed": "2026-12-04T10:00:01.000Z"}
	ok := map[string]string{"queued": "2026-12-04T10:00:02.000Z", "delivered": "2026-12-04T10:00:03.000Z"}
	for i := 0; i < s.N; i++ {
		phone := syntheticPhone(buf, i)
		for step, ch := range s.Channels {
			a := dynamo.Attempt{Campaign: c, Recipient: phone, Channel: ch, Step: step,
				ID: "3f2a7c1e-0000-4000-8000-" + phone[1:13], Status: "delivered", Times: ok}
			if step < len(s.Channels)-1 {
				a.Status, a.Times, a.MovedOn = "failed", failed, true
				a.FailClass, a.FailCode, a.FailReason = "fallback-now", "131026", "not on WhatsApp"
			}
			if err := fn(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Recipients yields every recipient in key order.
func (s synthetic) Recipients(_ context.Context, c string, fn func(dynamo.Recipient) error) error {
	var buf []byte
	last := s.Channels[len(s.Channels)-1]
	for i := 0; i < s.N; i++ {
		r := dynamo.Recipient{Campaign: c, Phone: syntheticPhone(buf, i), Row: i + 1,
			Outcome: "delivered", ReachedOn: last, EndedAt: "2026-12-04T10:00:03.000Z"}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// RejectedRows yields none.
func (synthetic) RejectedRows(context.Context, string, func(dynamo.RejectedRow) error) error {
	return nil
}
