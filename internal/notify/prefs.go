package notify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
)

// Preferences are one person's choices: which kinds on which channels, and
// quiet hours. The zero value is the defaults.
type Preferences struct {
	// Channels per kind; a kind left out uses DefaultChannels. An empty
	// list turns the kind off.
	Channels map[Kind][]Channel `json:"channels,omitempty"`
	// Quiet holds email outside P1 cases and escalations to you during
	// these hours, in your own time zone (the desk profile's), and sends it
	// when they end. In-app notifications make no noise and are never held.
	Quiet *QuietHours `json:"quiet_hours,omitempty"`
}

// QuietHours is a daily window, "22:00" to "07:00" (past midnight when end
// is earlier than start).
type QuietHours struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// DefaultChannels is where a kind goes when a person has not chosen: in
// the app always, by email what is addressed to you and needs you.
func DefaultChannels(k Kind) []Channel {
	switch k {
	case KindSLAWarning, KindHandoffRequested:
		return []Channel{InApp}
	}
	return []Channel{InApp, Email}
}

// ChannelsFor is where kind k goes for p.
func (p Preferences) ChannelsFor(k Kind) []Channel {
	if ch, ok := p.Channels[k]; ok {
		return ch
	}
	return DefaultChannels(k)
}

// Wants reports whether p takes kind k on channel c.
func (p Preferences) Wants(k Kind, c Channel) bool { return slices.Contains(p.ChannelsFor(k), c) }

// Validate reports every problem, with field paths (channels.assigned[1],
// quiet_hours.start).
func (p Preferences) Validate() error {
	v := &apperr.Invalid{}
	for k, chs := range p.Channels {
		if !k.Valid() {
			v.Add("channels."+string(k), "unknown kind; one of %s", joinKinds())
			continue
		}
		for i, c := range chs {
			if !slices.Contains(Channels, c) {
				v.Add(fmt.Sprintf("channels.%s[%d]", k, i), "unknown channel %q; one of in_app, email", c)
			} else if slices.Index(chs, c) != i {
				v.Add(fmt.Sprintf("channels.%s[%d]", k, i), "%s twice", c)
			}
		}
	}
	if q := p.Quiet; q != nil {
		_, errS := clockTime(q.Start)
		_, errE := clockTime(q.End)
		if errS != nil {
			v.Add("quiet_hours.start", "%s", errS.Error())
		}
		if errE != nil {
			v.Add("quiet_hours.end", "%s", errE.Error())
		}
		if errS == nil && errE == nil && q.Start == q.End {
			v.Add("quiet_hours.end", "must differ from start")
		}
	}
	return v.Err()
}

// normalised is p with the defaults written out dropped and kinds in order,
// as it is stored.
func (p Preferences) normalised() Preferences {
	out := Preferences{Quiet: p.Quiet}
	for _, k := range Kinds {
		chs, ok := p.Channels[k]
		if !ok {
			continue
		}
		chs = slices.Clone(chs)
		slices.SortFunc(chs, func(a, b Channel) int { return slices.Index(Channels, a) - slices.Index(Channels, b) })
		if slices.Equal(chs, DefaultChannels(k)) {
			continue
		}
		if out.Channels == nil {
			out.Channels = map[Kind][]Channel{}
		}
		out.Channels[k] = append([]Channel{}, chs...)
	}
	return out
}

func joinKinds() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// clockTime reads "HH:MM" as minutes after midnight.
func clockTime(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, fmt.Errorf("must be a time of day such as 22:00")
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("must be a time of day such as 22:00")
	}
	return hh*60 + mm, nil
}

// Until reports when the quiet hours around now end, in loc; zero when now
// is not in them (or q is nil or invalid).
func (q *QuietHours) Until(now time.Time, loc *time.Location) time.Time {
	if q == nil {
		return time.Time{}
	}
	start, err1 := clockTime(q.Start)
	end, err2 := clockTime(q.End)
	if err1 != nil || err2 != nil || start == end {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	minute := local.Hour()*60 + local.Minute()
	endOn := func(day time.Time) time.Time {
		// time.Date normalises a wall time a DST change skips.
		return time.Date(day.Year(), day.Month(), day.Day(), end/60, end%60, 0, 0, loc).UTC()
	}
	switch {
	case start < end && minute >= start && minute < end:
		return endOn(local)
	case start > end && minute >= start:
		return endOn(local.AddDate(0, 0, 1))
	case start > end && minute < end:
		return endOn(local)
	}
	return time.Time{}
}

// HoldUntil is when an email to someone with these preferences may go:
// zero for now, or the end of their quiet hours. Urgent ones (P1 cases and
// escalations to them, see Urgent) are never held.
func (p Preferences) HoldUntil(urgent bool, now time.Time, loc *time.Location) time.Time {
	if urgent {
		return time.Time{}
	}
	return p.Quiet.Until(now, loc)
}
