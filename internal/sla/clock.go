package sla

// SLA clocks: what a policy's targets mean for one case, evaluated from the
// case's history at an instant `now`. Pure: no storage, no wall clock. The
// engine stores nothing but the history; it calls Evaluate whenever it needs
// a clock (to show a case, after each change, when a scheduled warn/breach
// job fires) and, when the case's priority or category changes, simply
// evaluates the newly selected policy over the same history, so the targets
// are recomputed from the case's start.
//
// # Rules
//
// Counting. A clock counts business time (Calendar.Between over each
// counted interval), or plain elapsed time when the target's time is
// "calendar". Time is counted while the case is active (not resolved or
// closed) and its status is not one of the metric's pause statuses
// (PolicySpec.PauseStatuses; by default pending_requester pauses
// resolution). Outside business hours a clock is still "running": it is
// just not accumulating.
//
// first_response: one cycle, from the case's creation (the first Change)
// to the desk's first public reply (a Message with FromRequester false),
// where it is met. A case resolved (or closed) before any reply also ends
// the first-response clock: it is met at that resolution, and stays met if
// the case is reopened. Requester messages before that do not start
// next_response cycles (first_response covers them).
//
// next_response: once first_response has ended, a cycle starts at the
// first requester message after the latest desk reply; further requester
// messages while it waits do not restart it. It is met at the next desk
// reply, or when the case is resolved (or closed). A requester message on a
// resolved or closed case starts no clock; if the case is then reopened
// with that message still unanswered, a cycle starts at the reopening.
// Only the latest cycle is reported; with no cycle yet there is no clock.
//
// resolution: one cycle from creation that counts every active period:
// met when the case is resolved (MetAt is the instant it was resolved, and
// closing it later changes nothing); a reopen makes it run again with the
// time already counted kept, and a new resolution meets it again.
//
// Breach and warning. A clock is breached once its elapsed time reaches
// the target (elapsed >= target: a reply at the exact due instant is late),
// and warned once it reaches WarnFraction × target. Both are sticky and
// recorded at the exact instant they happened (BreachedAt, WarnedAt),
// computed from the history with Calendar.Add. A breached clock that is not
// met keeps counting: Elapsed grows past Target and Remaining goes
// negative.
//
// States: "met" when the cycle has ended (Breached says whether it was met
// late); otherwise "breached" once breached (whether or not it is counting
// right now); otherwise "paused" when the case's current status pauses the
// metric; otherwise "running".
//
// Instants before the first Change (messages logged before creation) count
// as at creation; history after `now` is ignored, so a clock can be
// evaluated at any instant of the timeline. Changes and messages are taken
// in time order (a stable sort; at equal instants status changes come
// before messages).

import (
	"slices"
	"time"
)

// Change is a status change of a case. The first is the case's creation
// (normally status "new").
type Change struct {
	At     time.Time
	Status string
}

// Message is a public message on a case: a desk reply to the requester
// (FromRequester false) or a message from the requester (true). Internal
// notes are not messages.
type Message struct {
	At            time.Time
	FromRequester bool
}

// History is what clocks are computed from.
type History struct {
	Changes  []Change
	Messages []Message
}

// ClockState is the state of a clock.
type ClockState string

const (
	ClockRunning  ClockState = "running"
	ClockPaused   ClockState = "paused"
	ClockMet      ClockState = "met"
	ClockBreached ClockState = "breached" // not met, and elapsed has reached the target
)

// Clock is one metric's clock on one case, as of the `now` it was evaluated
// at.
type Clock struct {
	Metric   Metric
	State    ClockState
	Target   time.Duration
	Business bool   // business time (false: plain elapsed time)
	Calendar string // the calendar's key; "" for calendar-time targets or a nil calendar
	// Paused reports that the case's current status pauses this metric
	// (also when the clock is breached, whose State does not show it).
	Paused bool

	// StartedAt is when the current cycle began: the case's creation for
	// first_response and resolution, the requester message (or the reopen)
	// for next_response.
	StartedAt time.Time

	// DueAt and WarnAt are the instants at which the clock breaches and
	// warns. Once that has happened they are BreachedAt and WarnedAt (in
	// the past). Before, they are projections assuming the clock counts
	// without interruption from a reference instant: now for a running
	// clock; now for a paused clock too (the values it would have if it
	// resumed now); MetAt for a met clock (when it would have been due had
	// it kept running).
	DueAt, WarnAt time.Time

	Elapsed   time.Duration // time counted in this cycle, up to now (or MetAt)
	Remaining time.Duration // Target - Elapsed; negative when overdue

	MetAt      time.Time // when the cycle ended; zero unless State is met
	Breached   bool
	BreachedAt time.Time // the instant Elapsed reached Target
	Warned     bool
	WarnedAt   time.Time // the instant Elapsed reached the warning threshold
}

// Evaluate computes metric m's clock under the policy for a case with this
// history, as of now. cal is the policy's calendar for the case (see
// PolicySpec.CalendarKey); nil counts as 24/7. It returns false when there
// is no clock: the policy has no (valid) target for m, the case did not
// exist yet at now, or (next_response) no cycle has started.
func Evaluate(spec PolicySpec, m Metric, cal *Calendar, h History, now time.Time) (Clock, bool) {
	tg, ok := spec.Targets[m]
	if !ok {
		return Clock{}, false
	}
	target, err := tg.Duration()
	if err != nil {
		return Clock{}, false
	}
	tl, ok := newTimeline(h, now)
	if !ok {
		return Clock{}, false
	}

	var cy cycle
	switch m {
	case FirstResponse:
		cy = tl.firstResponse()
	case NextResponse:
		if cy, ok = tl.nextResponse(); !ok {
			return Clock{}, false
		}
	case Resolution:
		cy = tl.resolution()
	default:
		return Clock{}, false
	}

	c := Clock{Metric: m, Target: target, Business: tg.Business(), StartedAt: cy.start}
	between := func(a, b time.Time) time.Duration { return b.Sub(a) }
	add := func(t time.Time, d time.Duration) time.Time {
		if d <= 0 {
			return t
		}
		return t.Add(d)
	}
	if c.Business && cal != nil {
		between, add = cal.Between, cal.Add
		c.Calendar = cal.Key()
	}

	pause := spec.PauseStatuses(m)
	counts := func(status string) bool { return !stopped(status) && !slices.Contains(pause, status) }
	warnAt := warnThreshold(target, spec.WarnFraction())

	end := now
	if cy.met {
		end = cy.end
	}
	for i, ch := range tl.changes {
		a, b := ch.At, now
		if i+1 < len(tl.changes) {
			b = tl.changes[i+1].At
		}
		a, b = later(a, cy.start), earlier(b, end)
		if !a.Before(b) || !counts(ch.Status) {
			continue
		}
		d := between(a, b)
		if !c.Warned && c.Elapsed+d >= warnAt {
			c.Warned, c.WarnedAt = true, add(a, warnAt-c.Elapsed)
		}
		if !c.Breached && c.Elapsed+d >= target {
			c.Breached, c.BreachedAt = true, add(a, target-c.Elapsed)
		}
		c.Elapsed += d
	}
	c.Remaining = target - c.Elapsed

	ref := now
	c.Paused = !cy.met && !counts(tl.current())
	switch {
	case cy.met:
		c.State, c.MetAt, ref = ClockMet, cy.end, cy.end
	case c.Breached:
		c.State = ClockBreached
	case c.Paused:
		c.State = ClockPaused
	default:
		c.State = ClockRunning
	}
	if c.Breached {
		c.DueAt = c.BreachedAt
	} else {
		c.DueAt = add(ref, c.Remaining)
	}
	if c.Warned {
		c.WarnAt = c.WarnedAt
	} else {
		c.WarnAt = add(ref, warnAt-c.Elapsed)
	}
	return c, true
}

// EvaluateAll evaluates every metric of the policy in Metrics order,
// leaving out those with no clock.
func EvaluateAll(spec PolicySpec, cal *Calendar, h History, now time.Time) []Clock {
	var out []Clock
	for _, m := range Metrics {
		if c, ok := Evaluate(spec, m, cal, h, now); ok {
			out = append(out, c)
		}
	}
	return out
}

// NextDeadlines returns the future instants at which the clock would warn
// and breach if nothing changes, for the engine to schedule jobs at. Each
// is zero when it has already happened or the clock is not running (a
// paused, breached or met clock fires nothing; the engine reschedules when
// the case changes). A job that fires should re-evaluate the clock at its
// own instant: at DueAt the clock has reached its target and is breached.
func NextDeadlines(c Clock) (warn, breach time.Time) {
	if c.State != ClockRunning {
		return time.Time{}, time.Time{}
	}
	if !c.Warned {
		warn = c.WarnAt
	}
	if !c.Breached {
		breach = c.DueAt
	}
	return warn, breach
}

// cycle is the span a clock measures: from start to end when met, from
// start to now otherwise.
type cycle struct {
	start, end time.Time
	met        bool
}

// timeline is a History cut at now, sorted, with messages clamped to the
// creation instant.
type timeline struct {
	changes  []Change
	messages []Message
}

func newTimeline(h History, now time.Time) (timeline, bool) {
	var tl timeline
	for _, c := range h.Changes {
		if !c.At.After(now) {
			tl.changes = append(tl.changes, c)
		}
	}
	if len(tl.changes) == 0 {
		return tl, false
	}
	slices.SortStableFunc(tl.changes, func(a, b Change) int { return a.At.Compare(b.At) })
	created := tl.changes[0].At
	for _, m := range h.Messages {
		if !m.At.After(now) {
			m.At = later(m.At, created)
			tl.messages = append(tl.messages, m)
		}
	}
	slices.SortStableFunc(tl.messages, func(a, b Message) int { return a.At.Compare(b.At) })
	return tl, true
}

func (tl timeline) created() time.Time { return tl.changes[0].At }
func (tl timeline) current() string    { return tl.changes[len(tl.changes)-1].Status }

func (tl timeline) firstResponse() cycle {
	cy := cycle{start: tl.created()}
	for _, m := range tl.messages {
		if !m.FromRequester {
			cy.end, cy.met = m.At, true
			break
		}
	}
	for _, c := range tl.changes {
		if stopped(c.Status) {
			if !cy.met || c.At.Before(cy.end) {
				cy.end, cy.met = c.At, true
			}
			break
		}
	}
	return cy
}

func (tl timeline) resolution() cycle {
	cy := cycle{start: tl.created()}
	n := len(tl.changes)
	if !stopped(tl.changes[n-1].Status) {
		return cy
	}
	i := n - 1
	for i > 0 && stopped(tl.changes[i-1].Status) {
		i-- // closed after resolved: met when it was resolved
	}
	cy.end, cy.met = tl.changes[i].At, true
	return cy
}

// nextResponse replays the history (changes before messages at equal
// instants) and returns the latest next_response cycle.
func (tl timeline) nextResponse() (cycle, bool) {
	var (
		cy        cycle
		has       bool
		firstDone bool // first_response has ended
		pending   bool // a requester message is unanswered
		active    = !stopped(tl.changes[0].Status)
	)
	endCycle := func(at time.Time) {
		if has && !cy.met {
			cy.end, cy.met = at, true
		}
		pending = false
	}
	ci, mi := 1, 0
	for ci < len(tl.changes) || mi < len(tl.messages) {
		if ci < len(tl.changes) && (mi == len(tl.messages) || !tl.messages[mi].At.Before(tl.changes[ci].At)) {
			c := tl.changes[ci]
			ci++
			switch {
			case stopped(c.Status) && active:
				active, firstDone = false, true
				endCycle(c.At)
			case !stopped(c.Status) && !active:
				active = true
				if pending {
					cy, has = cycle{start: c.At}, true
				}
			}
			continue
		}
		m := tl.messages[mi]
		mi++
		switch {
		case !m.FromRequester:
			firstDone = true
			endCycle(m.At)
		case firstDone && !pending:
			pending = true
			if active {
				cy, has = cycle{start: m.At}, true
			}
		}
	}
	return cy, has
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
