package rota

import (
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
)

// Sources of a shift: why its person is on call.
const (
	SourceLayer    = "layer"
	SourceOverride = "override"
)

// Shift is a stretch of time one person is on call for one reason: a turn
// of a layer's rotation (within its window), or an override.
type Shift struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Person string    `json:"person"` // email
	Source string    `json:"source"` // layer or override
	// The layer (its index, bottom first, and name) and the rotation's turn
	// (0 is the first from its start; the turn runs from hand-off to
	// hand-off, which a window cuts into shifts). -1 for an override.
	LayerIndex int        `json:"layer_index"`
	Layer      string     `json:"layer,omitempty"`
	Turn       int        `json:"turn"`
	TurnStart  *time.Time `json:"turn_start,omitempty"`
	TurnEnd    *time.Time `json:"turn_end,omitempty"`
	// The override (its id: "desk:N" for a standing one) and its reason,
	// and whom the layers have on call beneath it ("" over a hole).
	Override string `json:"override,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Covers   string `json:"covers,omitempty"`
}

// Gap is a stretch of time nobody is on call.
type Gap struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Shifts is the schedule over [from, to): the shifts in time order, cut at
// from and to, and the gaps between them. extra are overrides made outside
// the desk document, above its standing ones; later ones win. A nil plan
// (a team without a schedule) has only its overrides. The range is at most
// MaxRange; a longer one is cut.
func (p *Plan) Shifts(from, to time.Time, extra []Cover) ([]Shift, []Gap) {
	return p.timeline(from, to, extra, true)
}

// At is the shift under way at t (false in a hole) and the next one after
// it (nil when there is none within MaxOverride).
func (p *Plan) At(t time.Time, extra []Cover) (cur *Shift, next *Shift) {
	// No shift is longer than a turn or an override: these bounds hold the
	// whole of the shift under way.
	shifts, _ := p.timeline(t.Add(-MaxOverride-day), t.Add(MaxOverride+day), extra, true)
	for i := range shifts {
		s := &shifts[i]
		switch {
		case !s.Start.After(t) && t.Before(s.End):
			cur = s
		case s.Start.After(t):
			return cur, s
		}
	}
	return cur, nil
}

// Person is who is on call at t ("" in a hole): At without the work of
// finding where the shift begins and ends.
func (p *Plan) Person(t time.Time, extra []Cover) string {
	shifts, _ := p.timeline(t, t.Add(time.Second), extra, true)
	if len(shifts) > 0 && !shifts[0].Start.After(t) {
		return shifts[0].Person
	}
	return ""
}

// Shape is the steady state of the layers: the year from when every layer
// has begun, which holds both clock changes of every zone and every day of
// the week, and the gaps in it (overrides aside: they are exceptions, not
// the schedule's shape). A schedule without layers has no shape.
func (p *Plan) Shape() (from, to time.Time, gaps []Gap) {
	if p == nil || len(p.layers) == 0 {
		return time.Time{}, time.Time{}, nil
	}
	for _, l := range p.layers {
		if s := l.turnStart(0).UTC(); s.After(from) {
			from = s
		}
	}
	to = from.AddDate(1, 0, 0)
	q := *p
	q.standing = nil
	_, gaps = q.timeline(from, to, nil, false)
	return from, to, gaps
}

// lseg is a stretch of a layer's turn within its window.
type lseg struct {
	from, to time.Time
	turn     int
}

// segments is the layer's on-call time in [from, to): its turns cut by its
// window, in time order.
func (l *layer) segments(from, to time.Time) []lseg {
	var turns []lseg
	for k := max(l.turnAt(from), 0); ; k++ {
		ts, te := l.turnStart(k), l.turnStart(k+1)
		if !ts.Before(to) {
			break
		}
		s, e := later(ts, from), earlier(te, to)
		if s.Before(e) {
			turns = append(turns, lseg{s, e, k})
		}
	}
	wins, all := l.windows(from, to)
	if all {
		return turns
	}
	var out []lseg
	i, j := 0, 0
	for i < len(turns) && j < len(wins) {
		s, e := later(turns[i].from, wins[j].Start), earlier(turns[i].to, wins[j].End)
		if s.Before(e) {
			out = append(out, lseg{s, e, turns[i].turn})
		}
		if turns[i].to.Before(wins[j].End) {
			i++
		} else {
			j++
		}
	}
	return out
}

// windows is when the layer's window is open in [from, to), in time order
// with touching stretches joined; all reports that it is always open.
func (l *layer) windows(from, to time.Time) (out []Gap, all bool) {
	w := window{0, 86400}
	if l.window != nil {
		w = *l.window
	} else if l.on == [7]bool{true, true, true, true, true, true, true} {
		return nil, true
	}
	crosses := 0
	if w.to <= w.from {
		crosses = 1
	}
	y, m, d := from.In(l.loc).Date()
	d-- // yesterday's window may reach into today
	for i := 0; ; i++ {
		s := wall(y, m, d+i, w.from, l.loc)
		if !s.Before(to) {
			break
		}
		if !l.on[time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC).Weekday()] {
			continue
		}
		e := wall(y, m, d+i+crosses, w.to, l.loc)
		s, e = later(s, from), earlier(e, to)
		if !s.Before(e) {
			continue
		}
		if n := len(out); n > 0 && !out[n-1].End.Before(s) {
			out[n-1].End = later(out[n-1].End, e)
			continue
		}
		out = append(out, Gap{s, e})
	}
	return out, false
}

// timeline computes the shifts (when withShifts) and gaps over [from, to).
func (p *Plan) timeline(from, to time.Time, extra []Cover, withShifts bool) ([]Shift, []Gap) {
	from, to = from.UTC(), to.UTC()
	if to.Sub(from) > MaxRange {
		to = from.Add(MaxRange)
	}
	if !from.Before(to) {
		return nil, nil
	}
	var layers []*layer
	var covers []Cover
	if p != nil {
		layers = p.layers
		covers = append(covers, p.standing...)
	}
	covers = append(covers, extra...)
	covers = slices.DeleteFunc(covers, func(c Cover) bool { return !c.From.Before(to) || !c.To.After(from) })

	segs := make([][]lseg, len(layers))
	bounds := []time.Time{from, to}
	for i, l := range layers {
		segs[i] = l.segments(from, to)
		for _, s := range segs[i] {
			bounds = append(bounds, s.from.UTC(), s.to.UTC())
		}
	}
	for _, c := range covers {
		bounds = append(bounds, later(c.From, from).UTC(), earlier(c.To, to).UTC())
	}
	slices.SortFunc(bounds, time.Time.Compare)
	bounds = slices.CompactFunc(bounds, time.Time.Equal)

	// who is on call over one elementary stretch
	type pick struct {
		cover, layer, turn int // cover index or -1; layer index or -1
		covers             string
	}
	var shifts []Shift
	var gaps []Gap
	next := make([]int, len(layers)) // per layer, its first segment not yet behind us
	var last pick
	for b := 0; b+1 < len(bounds); b++ {
		a, z := bounds[b], bounds[b+1]
		pk := pick{cover: -1, layer: -1, turn: -1}
		for i := len(layers) - 1; i >= 0; i-- {
			ss := segs[i]
			for next[i] < len(ss) && !ss[next[i]].to.After(a) {
				next[i]++
			}
			if n := next[i]; pk.layer < 0 && n < len(ss) && !ss[n].from.After(a) {
				pk.layer, pk.turn = i, ss[n].turn
			}
		}
		for c := len(covers) - 1; c >= 0; c-- {
			if !covers[c].From.After(a) && covers[c].To.After(a) {
				pk.cover = c
				break
			}
		}
		if pk.cover >= 0 && pk.layer >= 0 {
			pk.covers = layers[pk.layer].person(pk.turn)
		}
		if pk.cover < 0 && pk.layer < 0 {
			if n := len(gaps); n > 0 && gaps[n-1].End.Equal(a) {
				gaps[n-1].End = z
			} else {
				gaps = append(gaps, Gap{a, z})
			}
			last = pk
			continue
		}
		if !withShifts {
			continue
		}
		if n := len(shifts); n > 0 && pk == last && shifts[n-1].End.Equal(a) {
			shifts[n-1].End = z
			continue
		}
		last = pk
		var s Shift
		if pk.cover >= 0 {
			c := covers[pk.cover]
			s = Shift{Person: c.Person, Source: SourceOverride, LayerIndex: -1, Turn: -1, Override: c.ID, Reason: c.Reason, Covers: pk.covers}
		} else {
			l := layers[pk.layer]
			ts, te := l.turnStart(pk.turn).UTC(), l.turnStart(pk.turn+1).UTC()
			s = Shift{Person: l.person(pk.turn), Source: SourceLayer, LayerIndex: l.index, Layer: l.name, Turn: pk.turn,
				TurnStart: &ts, TurnEnd: &te}
		}
		s.Start, s.End = a, z
		shifts = append(shifts, s)
	}
	return shifts, gaps
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Shifts compiles s and computes its shifts and gaps over [from, to), with
// extra overrides above its standing ones: Plan.Shifts for a schedule not
// compiled yet. Problems with s are returned as they are from Compile.
func Shifts(s Schedule, extra []Cover, from, to time.Time) ([]Shift, []Gap, error) {
	p, errs := Compile("schedule", s)
	if len(errs) > 0 {
		return nil, nil, &apperr.Invalid{Subject: "on-call schedule", Errors: errs}
	}
	shifts, gaps := p.Shifts(from, to, extra)
	return shifts, gaps, nil
}
