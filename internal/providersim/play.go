package providersim

import "time"

// playSteps schedules one message's statuses on p, in order: step k
// after (k+1)×Delay, the last after LateDelay for a late outcome, and
// each twice with Duplicate. With Early the first step is posted at
// once on the caller's goroutine, before the send is answered, and the
// rest are scheduled after it. stamp sets each step's timestamp.
func playSteps[T any](p *poster[T], cfg Config, steps []T, late bool,
	stamp func(*T, time.Time)) {
	now := time.Now()
	for k := range steps {
		d := time.Duration(k+1) * cfg.Delay
		if late && k == len(steps)-1 {
			d = cfg.LateDelay
		}
		early := cfg.Early && k == 0
		if early {
			d = 0
		}
		stamp(&steps[k], now.Add(d))
		items := []T{steps[k]}
		if cfg.Duplicate {
			items = append(items, steps[k])
		}
		if early {
			p.now(items...)
			continue
		}
		p.after(d, items...)
	}
}
