package sla

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Hand-checked clock expectations. Facts used (2026, see calendar_test.go):
// GB is Monday–Friday 09:00–18:00 Europe/London with the GB-ENG holidays;
// from Sun 29 Mar London is on BST (UTC+1), so 09:00 London = 08:00Z and
// 18:00 London = 17:00Z. Thu 2 Apr; Good Friday 3 Apr and Easter Monday
// 6 Apr are bank holidays; Tue 7 Apr, Wed 8, Thu 9, Fri 10, Mon 13 Apr are
// working days. "emergency" is 24/7 in UTC.

// diffClock lists the fields of got that differ from want.
func diffClock(got, want Clock) string {
	var d []string
	chk := func(name string, ok bool, g, w any) {
		if !ok {
			d = append(d, fmt.Sprintf("%s = %v, want %v", name, g, w))
		}
	}
	tm := func(name string, g, w time.Time) {
		chk(name, g.Equal(w), g.UTC().Format(time.RFC3339), w.UTC().Format(time.RFC3339))
	}
	chk("Metric", got.Metric == want.Metric, got.Metric, want.Metric)
	chk("State", got.State == want.State, got.State, want.State)
	chk("Target", got.Target == want.Target, got.Target, want.Target)
	chk("Business", got.Business == want.Business, got.Business, want.Business)
	chk("Calendar", got.Calendar == want.Calendar, got.Calendar, want.Calendar)
	chk("Paused", got.Paused == want.Paused, got.Paused, want.Paused)
	tm("StartedAt", got.StartedAt, want.StartedAt)
	tm("DueAt", got.DueAt, want.DueAt)
	tm("WarnAt", got.WarnAt, want.WarnAt)
	chk("Elapsed", got.Elapsed == want.Elapsed, got.Elapsed, want.Elapsed)
	chk("Remaining", got.Remaining == want.Remaining, got.Remaining, want.Remaining)
	tm("MetAt", got.MetAt, want.MetAt)
	chk("Breached", got.Breached == want.Breached, got.Breached, want.Breached)
	tm("BreachedAt", got.BreachedAt, want.BreachedAt)
	chk("Warned", got.Warned == want.Warned, got.Warned, want.Warned)
	tm("WarnedAt", got.WarnedAt, want.WarnedAt)
	return strings.Join(d, "; ")
}

var zero time.Time

type clockCase struct {
	name   string
	metric Metric
	now    string
	none   bool  // no clock expected
	want   Clock // Metric, Target, Business and Calendar are filled in by the runner
	// NextDeadlines, checked when set ("-" for zero)
	nextWarn, nextBreach string
}

func runClockCases(t *testing.T, spec PolicySpec, cal *Calendar, h History, cases []clockCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(string(tc.metric)+"/"+tc.name, func(t *testing.T) {
			got, ok := Evaluate(spec, tc.metric, cal, h, utc(tc.now))
			if tc.none {
				if ok {
					t.Fatalf("got a clock %+v, want none", got)
				}
				return
			}
			if !ok {
				t.Fatal("no clock")
			}
			w := tc.want
			w.Metric = tc.metric
			w.Target, _ = spec.Targets[tc.metric].Duration()
			w.Business = spec.Targets[tc.metric].Business()
			if w.Business && cal != nil {
				w.Calendar = cal.Key()
			}
			if d := diffClock(got, w); d != "" {
				t.Error(d)
			}
			if tc.nextWarn != "" || tc.nextBreach != "" {
				wn, br := NextDeadlines(got)
				at := func(s string) time.Time {
					if s == "-" {
						return zero
					}
					return utc(s)
				}
				if !wn.Equal(at(tc.nextWarn)) || !br.Equal(at(tc.nextBreach)) {
					t.Errorf("NextDeadlines = %v, %v; want %s, %s", wn, br, tc.nextWarn, tc.nextBreach)
				}
			}
		})
	}
}

// gbHistory: a case over Easter 2026 on the GB calendar. Created Thu 2 Apr
// 16:00 London, first reply Tue 7 Apr 10:30 London and pending the
// requester until they answer Wed 8 Apr 14:00 London (they write again Thu
// 09:00 London, still unanswered), next reply Fri 10 Apr 12:00 London,
// resolved Fri 15:00 London, reopened Mon 13 Apr 10:00 London.
var gbHistory = History{
	Changes: []Change{
		{utc("2026-04-02T15:00:00Z"), "new"},
		{utc("2026-04-02T15:30:00Z"), "open"},
		{utc("2026-04-07T09:30:00Z"), "pending_requester"},
		{utc("2026-04-08T13:00:00Z"), "open"},
		{utc("2026-04-10T14:00:00Z"), "resolved"},
		{utc("2026-04-13T09:00:00Z"), "open"},
	},
	Messages: []Message{
		{utc("2026-04-02T15:00:00Z"), true}, // the request itself
		{utc("2026-04-07T09:30:00Z"), false},
		{utc("2026-04-08T13:00:00Z"), true},
		{utc("2026-04-09T08:00:00Z"), true},
		{utc("2026-04-10T11:00:00Z"), false},
	},
}

var gbPolicy = PolicySpec{
	Name: "standard",
	Targets: map[Metric]Target{
		FirstResponse: {Within: "4h"},
		NextResponse:  {Within: "8h"},
		Resolution:    {Within: "1d"}, // 24 business hours
	},
}

func TestEvaluateBusinessCalendar(t *testing.T) {
	gb := demo(t, "GB")
	const created = "2026-04-02T15:00:00Z"
	runClockCases(t, gbPolicy, gb, gbHistory, []clockCase{
		{name: "before creation", metric: FirstResponse, now: "2026-04-02T14:59:59Z", none: true},
		{name: "before creation", metric: Resolution, now: "2026-04-02T14:59:59Z", none: true},

		// Sat 4 Apr: Thu 16:00–18:00 counted (2h); Good Friday and the
		// weekend count nothing. Due after 2h more: Easter Monday is closed,
		// so Tue 7 Apr 11:00 London; warn at 3h, Tue 10:00 London.
		{name: "over the Easter weekend", metric: FirstResponse, now: "2026-04-04T12:00:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc(created),
			DueAt: utc("2026-04-07T10:00:00Z"), WarnAt: utc("2026-04-07T09:00:00Z"),
			Elapsed: 2 * time.Hour, Remaining: 2 * time.Hour,
		}, nextWarn: "2026-04-07T09:00:00Z", nextBreach: "2026-04-07T10:00:00Z"},
		{name: "over the Easter weekend", metric: NextResponse, now: "2026-04-04T12:00:00Z", none: true},
		// 22h left: Tue 9h, Wed 9h, Thu 09:00+4h; warn at 18h: Tue 9h, Wed 09:00+7h.
		{name: "over the Easter weekend", metric: Resolution, now: "2026-04-04T12:00:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc(created),
			DueAt: utc("2026-04-09T12:00:00Z"), WarnAt: utc("2026-04-08T15:00:00Z"),
			Elapsed: 2 * time.Hour, Remaining: 22 * time.Hour,
		}, nextWarn: "2026-04-08T15:00:00Z", nextBreach: "2026-04-09T12:00:00Z"},

		// Tue 09:30 London: 2h + 30m; the warning (3h) is half an hour away.
		{name: "Tuesday morning", metric: FirstResponse, now: "2026-04-07T08:30:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc(created),
			DueAt: utc("2026-04-07T10:00:00Z"), WarnAt: utc("2026-04-07T09:00:00Z"),
			Elapsed: 150 * time.Minute, Remaining: 90 * time.Minute,
		}, nextWarn: "2026-04-07T09:00:00Z", nextBreach: "2026-04-07T10:00:00Z"},

		// The reply at 10:30 London meets it after 3h30m, warned at 10:00.
		// DueAt: had it kept running from the reply, 30m later.
		{name: "met by the reply", metric: FirstResponse, now: "2026-04-07T09:30:00Z", want: Clock{
			State: ClockMet, StartedAt: utc(created),
			DueAt: utc("2026-04-07T10:00:00Z"), WarnAt: utc("2026-04-07T09:00:00Z"),
			Elapsed: 210 * time.Minute, Remaining: 30 * time.Minute, MetAt: utc("2026-04-07T09:30:00Z"),
			Warned: true, WarnedAt: utc("2026-04-07T09:00:00Z"),
		}, nextWarn: "-", nextBreach: "-"},
		{name: "met, then reopened", metric: FirstResponse, now: "2026-04-13T11:00:00Z", want: Clock{
			State: ClockMet, StartedAt: utc(created),
			DueAt: utc("2026-04-07T10:00:00Z"), WarnAt: utc("2026-04-07T09:00:00Z"),
			Elapsed: 210 * time.Minute, Remaining: 30 * time.Minute, MetAt: utc("2026-04-07T09:30:00Z"),
			Warned: true, WarnedAt: utc("2026-04-07T09:00:00Z"),
		}},

		// Pending the requester from Tue 10:30 London: paused at 3h30m. If
		// resumed now (10:30 London): 20h30m left = Tue 7h30m, Wed 9h, Thu
		// 09:00+4h; warn 14h30m away = Tue 7h30m, Wed 09:00+7h.
		{name: "paused pending the requester", metric: Resolution, now: "2026-04-07T09:30:00Z", want: Clock{
			State: ClockPaused, Paused: true, StartedAt: utc(created),
			DueAt: utc("2026-04-09T12:00:00Z"), WarnAt: utc("2026-04-08T15:00:00Z"),
			Elapsed: 210 * time.Minute, Remaining: 20*time.Hour + 30*time.Minute,
		}, nextWarn: "-", nextBreach: "-"},
		// Still paused Wed 11:00 London: resumed now it would take Wed 7h,
		// Thu 9h, Fri 09:00+4h30m; warn: Wed 7h, Thu 09:00+7h30m.
		{name: "still paused next day", metric: Resolution, now: "2026-04-08T10:00:00Z", want: Clock{
			State: ClockPaused, Paused: true, StartedAt: utc(created),
			DueAt: utc("2026-04-10T12:30:00Z"), WarnAt: utc("2026-04-09T15:30:00Z"),
			Elapsed: 210 * time.Minute, Remaining: 20*time.Hour + 30*time.Minute,
		}},
		{name: "no requester message since the first reply", metric: NextResponse, now: "2026-04-08T10:00:00Z", none: true},

		// The requester answered Wed 14:00 London: next_response runs from
		// there (the second message Thu 09:00 does not restart it). Thu
		// 12:00 London: Wed 4h + Thu 3h = 7h; warned at 6h (Thu 11:00
		// London), due at 8h (Thu 13:00 London).
		{name: "running, warned", metric: NextResponse, now: "2026-04-09T11:00:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc("2026-04-08T13:00:00Z"),
			DueAt: utc("2026-04-09T12:00:00Z"), WarnAt: utc("2026-04-09T10:00:00Z"),
			Elapsed: 7 * time.Hour, Remaining: time.Hour,
			Warned: true, WarnedAt: utc("2026-04-09T10:00:00Z"),
		}, nextWarn: "-", nextBreach: "2026-04-09T12:00:00Z"},
		// Resolution resumed with the answer: 3h30m + Wed 4h + Thu 3h.
		// 13h30m left: Thu 6h, Fri 09:00+7h30m; warn 7h30m away: Fri 10:30.
		{name: "running again", metric: Resolution, now: "2026-04-09T11:00:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc(created),
			DueAt: utc("2026-04-10T15:30:00Z"), WarnAt: utc("2026-04-10T09:30:00Z"),
			Elapsed: 10*time.Hour + 30*time.Minute, Remaining: 13*time.Hour + 30*time.Minute,
		}, nextWarn: "2026-04-10T09:30:00Z", nextBreach: "2026-04-10T15:30:00Z"},
		// Exactly at the due instant the target is reached: breached.
		{name: "at the due instant", metric: NextResponse, now: "2026-04-09T12:00:00Z", want: Clock{
			State: ClockBreached, StartedAt: utc("2026-04-08T13:00:00Z"),
			DueAt: utc("2026-04-09T12:00:00Z"), WarnAt: utc("2026-04-09T10:00:00Z"),
			Elapsed: 8 * time.Hour, Remaining: 0,
			Breached: true, BreachedAt: utc("2026-04-09T12:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-09T10:00:00Z"),
		}, nextWarn: "-", nextBreach: "-"},
		// Thu 14:00 London: breached and still counting overdue time.
		{name: "breached, counting overdue", metric: NextResponse, now: "2026-04-09T13:00:00Z", want: Clock{
			State: ClockBreached, StartedAt: utc("2026-04-08T13:00:00Z"),
			DueAt: utc("2026-04-09T12:00:00Z"), WarnAt: utc("2026-04-09T10:00:00Z"),
			Elapsed: 9 * time.Hour, Remaining: -time.Hour,
			Breached: true, BreachedAt: utc("2026-04-09T12:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-09T10:00:00Z"),
		}, nextWarn: "-", nextBreach: "-"},
		// Met late by Fri 12:00 London: Wed 4h + Thu 9h + Fri 3h.
		{name: "met late", metric: NextResponse, now: "2026-04-13T11:00:00Z", want: Clock{
			State: ClockMet, StartedAt: utc("2026-04-08T13:00:00Z"),
			DueAt: utc("2026-04-09T12:00:00Z"), WarnAt: utc("2026-04-09T10:00:00Z"),
			Elapsed: 16 * time.Hour, Remaining: -8 * time.Hour, MetAt: utc("2026-04-10T11:00:00Z"),
			Breached: true, BreachedAt: utc("2026-04-09T12:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-09T10:00:00Z"),
		}},

		// Resolved Fri 15:00 London: 3h30m + Wed 4h + Thu 9h + Fri 6h =
		// 22h30m; warned at 18h (Fri 10:30 London); would have been due
		// 1h30m after the resolution.
		{name: "met on resolution", metric: Resolution, now: "2026-04-11T12:00:00Z", want: Clock{
			State: ClockMet, StartedAt: utc(created),
			DueAt: utc("2026-04-10T15:30:00Z"), WarnAt: utc("2026-04-10T09:30:00Z"),
			Elapsed: 22*time.Hour + 30*time.Minute, Remaining: 90 * time.Minute, MetAt: utc("2026-04-10T14:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-10T09:30:00Z"),
		}, nextWarn: "-", nextBreach: "-"},
		// Reopened Mon 13 Apr 10:00 London: the 22h30m are kept. At 11:00
		// London 23h30m, due 11:30 London.
		{name: "reopened", metric: Resolution, now: "2026-04-13T10:00:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc(created),
			DueAt: utc("2026-04-13T10:30:00Z"), WarnAt: utc("2026-04-10T09:30:00Z"),
			Elapsed: 23*time.Hour + 30*time.Minute, Remaining: 30 * time.Minute,
			Warned: true, WarnedAt: utc("2026-04-10T09:30:00Z"),
		}, nextWarn: "-", nextBreach: "2026-04-13T10:30:00Z"},
		{name: "reopened and breached", metric: Resolution, now: "2026-04-13T11:00:00Z", want: Clock{
			State: ClockBreached, StartedAt: utc(created),
			DueAt: utc("2026-04-13T10:30:00Z"), WarnAt: utc("2026-04-10T09:30:00Z"),
			Elapsed: 24*time.Hour + 30*time.Minute, Remaining: -30 * time.Minute,
			Breached: true, BreachedAt: utc("2026-04-13T10:30:00Z"),
			Warned: true, WarnedAt: utc("2026-04-10T09:30:00Z"),
		}, nextWarn: "-", nextBreach: "-"},
		{name: "reopened, no new requester message", metric: NextResponse, now: "2026-04-13T11:00:00Z", want: Clock{
			State: ClockMet, StartedAt: utc("2026-04-08T13:00:00Z"),
			DueAt: utc("2026-04-09T12:00:00Z"), WarnAt: utc("2026-04-09T10:00:00Z"),
			Elapsed: 16 * time.Hour, Remaining: -8 * time.Hour, MetAt: utc("2026-04-10T11:00:00Z"),
			Breached: true, BreachedAt: utc("2026-04-09T12:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-09T10:00:00Z"),
		}},
	})
}

// A breach that lands exactly on a closing time is that closing instant,
// not the next opening.
func TestBreachAtClosingTime(t *testing.T) {
	gb := demo(t, "GB")
	spec := PolicySpec{Name: "x", Targets: map[Metric]Target{FirstResponse: {Within: "2h"}}}
	h := History{Changes: []Change{{utc("2026-04-02T15:00:00Z"), "new"}}} // Thu 16:00 London
	runClockCases(t, spec, gb, h, []clockCase{
		{name: "over Easter", metric: FirstResponse, now: "2026-04-06T12:00:00Z", want: Clock{
			State: ClockBreached, StartedAt: utc("2026-04-02T15:00:00Z"),
			DueAt: utc("2026-04-02T17:00:00Z"), WarnAt: utc("2026-04-02T16:30:00Z"),
			Elapsed: 2 * time.Hour, Remaining: 0,
			Breached: true, BreachedAt: utc("2026-04-02T17:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-02T16:30:00Z"),
		}},
		// Tue 7 Apr 10:00 London: 2h + 1h, one hour overdue.
		{name: "overdue on Tuesday", metric: FirstResponse, now: "2026-04-07T09:00:00Z", want: Clock{
			State: ClockBreached, StartedAt: utc("2026-04-02T15:00:00Z"),
			DueAt: utc("2026-04-02T17:00:00Z"), WarnAt: utc("2026-04-02T16:30:00Z"),
			Elapsed: 3 * time.Hour, Remaining: -time.Hour,
			Breached: true, BreachedAt: utc("2026-04-02T17:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-02T16:30:00Z"),
		}},
	})
}

// Calendar-time targets ignore the calendar: every hour counts, bank
// holiday and weekend included.
func TestEvaluateCalendarTime(t *testing.T) {
	gb := demo(t, "GB")
	spec := PolicySpec{Name: "x", Targets: map[Metric]Target{Resolution: {Within: "1d", Time: "calendar"}}}
	h := History{Changes: []Change{{utc("2026-04-03T17:00:00Z"), "new"}}} // Good Friday
	runClockCases(t, spec, gb, h, []clockCase{
		{name: "Saturday", metric: Resolution, now: "2026-04-04T16:00:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc("2026-04-03T17:00:00Z"),
			DueAt: utc("2026-04-04T17:00:00Z"), WarnAt: utc("2026-04-04T11:00:00Z"),
			Elapsed: 23 * time.Hour, Remaining: time.Hour,
			Warned: true, WarnedAt: utc("2026-04-04T11:00:00Z"),
		}, nextWarn: "-", nextBreach: "2026-04-04T17:00:00Z"},
		{name: "Easter Monday", metric: Resolution, now: "2026-04-06T17:00:00Z", want: Clock{
			State: ClockBreached, StartedAt: utc("2026-04-03T17:00:00Z"),
			DueAt: utc("2026-04-04T17:00:00Z"), WarnAt: utc("2026-04-04T11:00:00Z"),
			Elapsed: 72 * time.Hour, Remaining: -48 * time.Hour,
			Breached: true, BreachedAt: utc("2026-04-04T17:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-04T11:00:00Z"),
		}},
	})
}

// A 24/7 calendar with custom pauses and warn_at: the first response is
// ended by a resolution without a reply (met, late); a requester message on
// the resolved case starts next_response only when the case is reopened;
// resolution pauses in both pending statuses and stays met when closed.
func TestEvaluateAlwaysOpen(t *testing.T) {
	em := demo(t, "emergency")
	spec := PolicySpec{
		Name:   "P1",
		WarnAt: 0.5,
		Targets: map[Metric]Target{
			FirstResponse: {Within: "30m"},
			NextResponse:  {Within: "1h"},
			Resolution:    {Within: "4h"},
		},
		Pause: map[Metric][]string{Resolution: {"pending_requester", "pending_internal"}},
	}
	h := History{
		Changes: []Change{
			{utc("2026-04-04T22:00:00Z"), "new"},
			{utc("2026-04-04T22:10:00Z"), "pending_internal"},
			{utc("2026-04-04T22:40:00Z"), "resolved"},
			{utc("2026-04-04T23:30:00Z"), "open"},
			{utc("2026-04-05T00:20:00Z"), "pending_requester"},
			{utc("2026-04-05T01:20:00Z"), "open"},
			{utc("2026-04-05T03:00:00Z"), "resolved"},
			{utc("2026-04-05T04:00:00Z"), "closed"},
		},
		Messages: []Message{
			{utc("2026-04-04T23:00:00Z"), true},
			{utc("2026-04-05T00:15:00Z"), false},
		},
	}
	created := utc("2026-04-04T22:00:00Z")
	firstMet := Clock{
		State: ClockMet, StartedAt: created,
		DueAt: utc("2026-04-04T22:30:00Z"), WarnAt: utc("2026-04-04T22:15:00Z"),
		Elapsed: 40 * time.Minute, Remaining: -10 * time.Minute, MetAt: utc("2026-04-04T22:40:00Z"),
		Breached: true, BreachedAt: utc("2026-04-04T22:30:00Z"),
		Warned: true, WarnedAt: utc("2026-04-04T22:15:00Z"),
	}
	runClockCases(t, spec, em, h, []clockCase{
		{name: "pending internal does not pause it", metric: FirstResponse, now: "2026-04-04T22:20:00Z", want: Clock{
			State: ClockRunning, StartedAt: created,
			DueAt: utc("2026-04-04T22:30:00Z"), WarnAt: utc("2026-04-04T22:15:00Z"),
			Elapsed: 20 * time.Minute, Remaining: 10 * time.Minute,
			Warned: true, WarnedAt: utc("2026-04-04T22:15:00Z"),
		}, nextWarn: "-", nextBreach: "2026-04-04T22:30:00Z"},
		{name: "met late by the resolution", metric: FirstResponse, now: "2026-04-04T23:10:00Z", want: firstMet},
		{name: "stays met after reopen and reply", metric: FirstResponse, now: "2026-04-05T05:00:00Z", want: firstMet},

		// 10 minutes as new, then paused pending internal: due if resumed now.
		{name: "paused pending internal", metric: Resolution, now: "2026-04-04T22:20:00Z", want: Clock{
			State: ClockPaused, Paused: true, StartedAt: created,
			DueAt: utc("2026-04-05T02:10:00Z"), WarnAt: utc("2026-04-05T00:10:00Z"),
			Elapsed: 10 * time.Minute, Remaining: 3*time.Hour + 50*time.Minute,
		}, nextWarn: "-", nextBreach: "-"},
		{name: "message on the resolved case", metric: NextResponse, now: "2026-04-04T23:10:00Z", none: true},
		{name: "resolved", metric: Resolution, now: "2026-04-04T23:10:00Z", want: Clock{
			State: ClockMet, StartedAt: created,
			DueAt: utc("2026-04-05T02:30:00Z"), WarnAt: utc("2026-04-05T00:30:00Z"),
			Elapsed: 10 * time.Minute, Remaining: 3*time.Hour + 50*time.Minute, MetAt: utc("2026-04-04T22:40:00Z"),
		}},

		// Reopened 23:30 with the 23:00 message unanswered: the cycle starts
		// at the reopen.
		{name: "started by the reopen", metric: NextResponse, now: "2026-04-04T23:45:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc("2026-04-04T23:30:00Z"),
			DueAt: utc("2026-04-05T00:30:00Z"), WarnAt: utc("2026-04-05T00:00:00Z"),
			Elapsed: 15 * time.Minute, Remaining: 45 * time.Minute,
		}, nextWarn: "2026-04-05T00:00:00Z", nextBreach: "2026-04-05T00:30:00Z"},
		{name: "met by the reply", metric: NextResponse, now: "2026-04-05T05:00:00Z", want: Clock{
			State: ClockMet, StartedAt: utc("2026-04-04T23:30:00Z"),
			DueAt: utc("2026-04-05T00:30:00Z"), WarnAt: utc("2026-04-05T00:00:00Z"),
			Elapsed: 45 * time.Minute, Remaining: 15 * time.Minute, MetAt: utc("2026-04-05T00:15:00Z"),
			Warned: true, WarnedAt: utc("2026-04-05T00:00:00Z"),
		}},

		// 10m + 23:30–00:20 (50m) = 1h, paused pending the requester.
		{name: "paused pending the requester", metric: Resolution, now: "2026-04-05T00:50:00Z", want: Clock{
			State: ClockPaused, Paused: true, StartedAt: created,
			DueAt: utc("2026-04-05T03:50:00Z"), WarnAt: utc("2026-04-05T01:50:00Z"),
			Elapsed: time.Hour, Remaining: 3 * time.Hour,
		}, nextWarn: "-", nextBreach: "-"},
		// + 01:20–03:00 (1h40m) = 2h40m; the 2h warning at 02:20. Closing
		// at 04:00 keeps MetAt at the resolution.
		{name: "resolved and closed", metric: Resolution, now: "2026-04-05T05:00:00Z", want: Clock{
			State: ClockMet, StartedAt: created,
			DueAt: utc("2026-04-05T04:20:00Z"), WarnAt: utc("2026-04-05T02:20:00Z"),
			Elapsed: 2*time.Hour + 40*time.Minute, Remaining: 80 * time.Minute, MetAt: utc("2026-04-05T03:00:00Z"),
			Warned: true, WarnedAt: utc("2026-04-05T02:20:00Z"),
		}},
	})
}

// Each requester message after a desk reply starts a new next_response
// cycle; only the latest is reported. Messages before the first reply are
// first_response's.
func TestNextResponseCycles(t *testing.T) {
	em := demo(t, "emergency")
	spec := PolicySpec{Name: "x", Targets: map[Metric]Target{NextResponse: {Within: "1h"}}}
	h := History{
		Changes: []Change{{utc("2026-05-01T10:00:00Z"), "new"}, {utc("2026-05-01T10:05:00Z"), "open"}},
		Messages: []Message{
			{utc("2026-05-01T10:00:00Z"), true},
			{utc("2026-05-01T10:02:00Z"), true}, // still first_response's
			{utc("2026-05-01T10:10:00Z"), false},
			{utc("2026-05-01T11:00:00Z"), true}, // cycle 1
			{utc("2026-05-01T11:20:00Z"), false},
			{utc("2026-05-01T12:00:00Z"), true}, // cycle 2
			{utc("2026-05-01T12:30:00Z"), true}, // does not restart
		},
	}
	runClockCases(t, spec, em, h, []clockCase{
		{name: "before the first reply", metric: NextResponse, now: "2026-05-01T10:09:00Z", none: true},
		{name: "after the first reply", metric: NextResponse, now: "2026-05-01T10:30:00Z", none: true},
		{name: "cycle 1 met", metric: NextResponse, now: "2026-05-01T11:50:00Z", want: Clock{
			State: ClockMet, StartedAt: utc("2026-05-01T11:00:00Z"),
			DueAt: utc("2026-05-01T12:00:00Z"), WarnAt: utc("2026-05-01T11:45:00Z"),
			Elapsed: 20 * time.Minute, Remaining: 40 * time.Minute, MetAt: utc("2026-05-01T11:20:00Z"),
		}},
		{name: "cycle 2 running", metric: NextResponse, now: "2026-05-01T12:40:00Z", want: Clock{
			State: ClockRunning, StartedAt: utc("2026-05-01T12:00:00Z"),
			DueAt: utc("2026-05-01T13:00:00Z"), WarnAt: utc("2026-05-01T12:45:00Z"),
			Elapsed: 40 * time.Minute, Remaining: 20 * time.Minute,
		}, nextWarn: "2026-05-01T12:45:00Z", nextBreach: "2026-05-01T13:00:00Z"},
	})
}

// Evaluating at now must give the same clock whether or not the history
// after now is passed in, at every minute of the timeline; and elapsed
// resolution time never goes down.
func TestEvaluateIgnoresTheFuture(t *testing.T) {
	gb := demo(t, "GB")
	cut := func(h History, now time.Time) History {
		var out History
		for _, c := range h.Changes {
			if !c.At.After(now) {
				out.Changes = append(out.Changes, c)
			}
		}
		for _, m := range h.Messages {
			if !m.At.After(now) {
				out.Messages = append(out.Messages, m)
			}
		}
		return out
	}
	var last time.Duration
	for now := utc("2026-04-02T14:00:00Z"); now.Before(utc("2026-04-14T00:00:00Z")); now = now.Add(7 * time.Minute) {
		for _, m := range Metrics {
			full, ok1 := Evaluate(gbPolicy, m, gb, gbHistory, now)
			part, ok2 := Evaluate(gbPolicy, m, gb, cut(gbHistory, now), now)
			if ok1 != ok2 {
				t.Fatalf("%s at %v: ok %v with the full history, %v without the future", m, now, ok1, ok2)
			}
			if d := diffClock(full, part); d != "" {
				t.Fatalf("%s at %v: %s", m, now, d)
			}
			if m == Resolution && ok1 {
				if full.Elapsed < last {
					t.Fatalf("resolution elapsed went down at %v: %v < %v", now, full.Elapsed, last)
				}
				last = full.Elapsed
			}
		}
	}
}

func TestEvaluateNoTarget(t *testing.T) {
	h := History{Changes: []Change{{utc("2026-05-01T10:00:00Z"), "new"}}}
	spec := PolicySpec{Name: "x", Targets: map[Metric]Target{Resolution: {Within: "4h"}, FirstResponse: {Within: "bad"}}}
	now := utc("2026-05-01T11:00:00Z")
	if _, ok := Evaluate(spec, NextResponse, nil, h, now); ok {
		t.Error("next_response has no target but got a clock")
	}
	if _, ok := Evaluate(spec, FirstResponse, nil, h, now); ok {
		t.Error("an invalid target gave a clock")
	}
	if _, ok := Evaluate(spec, Resolution, nil, History{}, now); ok {
		t.Error("an empty history gave a clock")
	}
	// A nil calendar counts plain time.
	c, ok := Evaluate(spec, Resolution, nil, h, now)
	if !ok || c.Elapsed != time.Hour || c.Calendar != "" || !c.Business {
		t.Errorf("nil calendar: %+v", c)
	}
	all := EvaluateAll(spec, nil, h, now)
	if len(all) != 1 || all[0].Metric != Resolution {
		t.Errorf("EvaluateAll = %+v", all)
	}
}

func TestBreachedWhilePaused(t *testing.T) {
	em := demo(t, "emergency")
	spec := PolicySpec{Name: "x", Targets: map[Metric]Target{Resolution: {Within: "1h"}}}
	h := History{Changes: []Change{
		{utc("2026-05-01T10:00:00Z"), "new"},
		{utc("2026-05-01T11:30:00Z"), "pending_requester"},
	}}
	runClockCases(t, spec, em, h, []clockCase{
		{name: "paused after the breach", metric: Resolution, now: "2026-05-01T15:00:00Z", want: Clock{
			State: ClockBreached, Paused: true, StartedAt: utc("2026-05-01T10:00:00Z"),
			DueAt: utc("2026-05-01T11:00:00Z"), WarnAt: utc("2026-05-01T10:45:00Z"),
			Elapsed: 90 * time.Minute, Remaining: -30 * time.Minute,
			Breached: true, BreachedAt: utc("2026-05-01T11:00:00Z"),
			Warned: true, WarnedAt: utc("2026-05-01T10:45:00Z"),
		}, nextWarn: "-", nextBreach: "-"},
	})
}
