package reports

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/staffing"
)

// The staffing view: per market and hour of the week, the intake forecast
// (the average of the same hour over the last N weeks — the seasonal naive
// forecast, which the weekly rhythm of a support desk suits: it keeps the
// weekday and hour shape and follows growth within N weeks), the measured
// handling time of the market's category mix, and the agents Erlang C
// needs to answer the share ServiceLevel within AnswerWithin.

// DefaultAHT is the handling time of a category without enough measured replies.
const DefaultAHT = 10 * time.Minute

// minAHTSamples is how many measured replies a category needs.
const minAHTSamples = 5

// maxReplyGap bounds the gap between two replies of one agent that counts
// as handling the second: longer gaps are breaks, meetings, the night.
const maxReplyGap = 30 * time.Minute

// CategoryAHT is one category's handling time.
type CategoryAHT struct {
	Category   string  `json:"category"`
	AHTSeconds float64 `json:"aht_seconds"`
	Samples    int     `json:"samples"`
	Measured   bool    `json:"measured"` // false: DefaultAHT (too few samples)
}

// StaffHour is one market's hour of the week.
type StaffHour struct {
	Weekday      int     `json:"weekday"` // 0 Monday … 6 Sunday, in the market's time zone
	Hour         int     `json:"hour"`
	Forecast     float64 `json:"forecast"` // contacts expected in the hour
	AHTSeconds   float64 `json:"aht_seconds"`
	Agents       int     `json:"agents"`
	ServiceLevel float64 `json:"service_level"`
	ASASeconds   float64 `json:"asa_seconds"`
}

// MarketStaffing is a market's week.
type MarketStaffing struct {
	Market     string      `json:"market"`
	Name       string      `json:"name"`
	Zone       string      `json:"zone"`
	AHTSeconds float64     `json:"aht_seconds"` // the forecast's category mix's handling time
	Peak       int         `json:"peak_agents"`
	Hours      []StaffHour `json:"hours"` // 168, Monday 00:00 first
}

// StaffingView is the whole view.
type StaffingView struct {
	At           time.Time        `json:"at"`
	Weeks        int              `json:"weeks"`
	ServiceLevel float64          `json:"service_level"`
	AnswerWithin string           `json:"answer_within"`
	Categories   []CategoryAHT    `json:"categories"`
	Markets      []MarketStaffing `json:"markets"`
}

// Staffing computes the view; weeks 0 takes the desk document's
// report_targets.forecast_weeks (default 4), market "" every market.
func (s *Service) Staffing(ctx context.Context, actor auth.Actor, weeks int, market string) (*StaffingView, error) {
	if !actor.Can(auth.PermReportRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read the desk's reports"}
	}
	if weeks < 0 || weeks > 26 {
		return nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "weeks", Message: "must be between 1 and 26"}}}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Market(market); market != "" && !ok {
		return nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "market", Message: fmt.Sprintf("unknown market %q", market)}}}
	}
	level, within, defWeeks := desk.Get(cfg, TargetsKey).staffing()
	if weeks == 0 {
		weeks = defWeeks
	}
	now := s.clock.Now().UTC()
	from := now.Add(-time.Duration(weeks) * 7 * 24 * time.Hour)
	v := &StaffingView{At: now, Weeks: weeks, ServiceLevel: level, AnswerWithin: within.String(), Markets: []MarketStaffing{}}

	aht, err := s.handlingTimes(ctx, from, now)
	if err != nil {
		return nil, err
	}
	ahtOf := func(cat string) time.Duration {
		if a, ok := aht[cat]; ok && a.Measured {
			return time.Duration(a.AHTSeconds * float64(time.Second))
		}
		return DefaultAHT
	}
	for _, c := range cfg.Categories {
		a, ok := aht[c.Key]
		if !ok {
			a = CategoryAHT{Category: c.Key}
		}
		if !a.Measured {
			a.AHTSeconds = DefaultAHT.Seconds()
		}
		v.Categories = append(v.Categories, a)
	}

	// The intake from the report facts as the fact cache holds them.
	facts, err := s.facts.load(ctx, s.db, cfg, from, now, false)
	if err != nil {
		return nil, fmt.Errorf("staffing intake: %w", err)
	}
	type acc struct {
		count [7][24]int
		work  time.Duration // summed handling time of the contacts
		total int
		loc   *time.Location
	}
	by := map[string]*acc{}
	for _, r := range facts.pick(Filter{Market: market}, from, now, false) {
		if r.CreatedAt.Before(from) {
			continue // open since before the weeks measured
		}
		a := by[r.Market]
		if a == nil {
			m, _ := cfg.Market(r.Market)
			a = &acc{loc: m.Location()}
			by[r.Market] = a
		}
		t := r.CreatedAt.In(a.loc)
		a.count[(int(t.Weekday())+6)%7][t.Hour()]++
		a.work += ahtOf(r.Category)
		a.total++
	}
	for _, m := range cfg.Markets {
		if market != "" && m.Code != market {
			continue
		}
		ms := MarketStaffing{Market: m.Code, Name: m.Name, Zone: m.Timezone, Hours: make([]StaffHour, 0, 168)}
		a := by[m.Code]
		if a == nil {
			a = &acc{}
		}
		mix := DefaultAHT
		if a.total > 0 {
			mix = a.work / time.Duration(a.total)
		}
		ms.AHTSeconds = round3(mix.Seconds())
		for wd := range 7 {
			for h := range 24 {
				sh := StaffHour{Weekday: wd, Hour: h, Forecast: round4(float64(a.count[wd][h]) / float64(weeks)), AHTSeconds: ms.AHTSeconds}
				if sh.Forecast > 0 {
					out, err := staffing.Needed(staffing.Load{Contacts: sh.Forecast, Period: time.Hour, AHT: mix}, level, within)
					if err != nil {
						return nil, fmt.Errorf("staffing %s: %w", m.Code, err)
					}
					sh.Agents, sh.ServiceLevel, sh.ASASeconds = out.Agents, round4(out.ServiceLevel), round3(out.ASA.Seconds())
				}
				ms.Peak = max(ms.Peak, sh.Agents)
				ms.Hours = append(ms.Hours, sh)
			}
		}
		v.Markets = append(v.Markets, ms)
	}
	return v, nil
}

// handlingTimes measures each category's handling time from the desk's
// public replies in [from, to): Flare records no time worked, so the gap
// between one agent's consecutive public replies (when under maxReplyGap)
// is the time that agent spent on the later reply's case. The median per
// category; categories with fewer than minAHTSamples gaps are not measured.
func (s *Service) handlingTimes(ctx context.Context, from, to time.Time) (map[string]CategoryAHT, error) {
	res, err := s.db.Query(ctx, `SELECT cc.author_id, cc.created_at, c.category FROM case_comments cc
		JOIN report_facts c ON c.case_id = cc.case_id JOIN users u ON u.id = cc.author_id
		WHERE cc.internal = ? AND cc.created_at >= ? AND cc.created_at < ? AND u.role IN ('agent', 'lead')
		ORDER BY cc.author_id, cc.created_at, cc.id`, false, db.T(from), db.T(to))
	if err != nil {
		return nil, fmt.Errorf("handling times: %w", err)
	}
	defer res.Close()
	gaps := map[string][]time.Duration{}
	var lastAuthor int64
	var last time.Time
	for res.Next() {
		var author int64
		var at db.Time
		var cat string
		if err := res.Scan(&author, &at, &cat); err != nil {
			return nil, fmt.Errorf("handling times: %w", err)
		}
		if author == lastAuthor {
			if g := at.Sub(last); g > 0 && g <= maxReplyGap {
				gaps[cat] = append(gaps[cat], g)
			}
		}
		lastAuthor, last = author, at.Time
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("handling times: %w", err)
	}
	out := map[string]CategoryAHT{}
	for cat, gs := range gaps {
		slices.Sort(gs)
		a := CategoryAHT{Category: cat, Samples: len(gs), Measured: len(gs) >= minAHTSamples}
		if a.Measured {
			a.AHTSeconds = quantile(gs, 0.5)
		}
		out[cat] = a
	}
	return out, nil
}
