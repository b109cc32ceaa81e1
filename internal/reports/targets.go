package reports

import (
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
)

// Targets are the desk's goals for its figures (the desk document's
// report_targets section), shown next to each figure. A zero field has no
// target.
type Targets struct {
	// SLA attainment per SLA metric (first_response, next_response,
	// resolution), as a share 0..1.
	SLAAttainment map[string]float64 `yaml:"sla_attainment,omitempty" json:"sla_attainment,omitempty"`
	// Medians in calendar time, as Go durations ("2h", "48h").
	FirstResponseMedian string  `yaml:"first_response_median,omitempty" json:"first_response_median,omitempty"`
	ResolutionMedian    string  `yaml:"resolution_median,omitempty" json:"resolution_median,omitempty"`
	ReopenRate          float64 `yaml:"reopen_rate,omitempty" json:"reopen_rate,omitempty"`         // at most
	EscalationRate      float64 `yaml:"escalation_rate,omitempty" json:"escalation_rate,omitempty"` // at most
	RepeatRate          float64 `yaml:"repeat_rate,omitempty" json:"repeat_rate,omitempty"`         // at most
	// Staffing: the share of contacts to answer within AnswerWithin (the
	// Erlang C service level), and how many past weeks the forecast averages.
	ServiceLevel  float64 `yaml:"service_level,omitempty" json:"service_level,omitempty"`
	AnswerWithin  string  `yaml:"answer_within,omitempty" json:"answer_within,omitempty"`
	ForecastWeeks int     `yaml:"forecast_weeks,omitempty" json:"forecast_weeks,omitempty"`
}

// TargetsKey is the desk document's section of report targets.
const TargetsKey desk.Key[Targets] = "report_targets"

// Sections are the desk document sections reports owns.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[Targets]{Key: TargetsKey, Validate: validateTargets}}
}

func validateTargets(_ *desk.Config, t Targets) []apperr.FieldError {
	var errs []apperr.FieldError
	bad := func(field, msg string) {
		errs = append(errs, apperr.FieldError{Field: "report_targets." + field, Message: msg})
	}
	for m, v := range t.SLAAttainment {
		if m != "first_response" && m != "next_response" && m != "resolution" {
			bad("sla_attainment."+m, "must be first_response, next_response or resolution")
		} else if v <= 0 || v > 1 {
			bad("sla_attainment."+m, "must be a share between 0 and 1")
		}
	}
	for _, d := range []struct{ name, v string }{{"first_response_median", t.FirstResponseMedian},
		{"resolution_median", t.ResolutionMedian}, {"answer_within", t.AnswerWithin}} {
		if d.v == "" {
			continue
		}
		if x, err := time.ParseDuration(d.v); err != nil || x <= 0 {
			bad(d.name, fmt.Sprintf("%q is not a positive duration like 2h or 90m", d.v))
		}
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"reopen_rate", t.ReopenRate}, {"escalation_rate", t.EscalationRate}, {"repeat_rate", t.RepeatRate}, {"service_level", t.ServiceLevel}} {
		if r.v < 0 || r.v > 1 {
			bad(r.name, "must be a share between 0 and 1")
		}
	}
	if t.ForecastWeeks < 0 || t.ForecastWeeks > 26 {
		bad("forecast_weeks", "must be between 1 and 26")
	}
	return errs
}

// Defaults for staffing when the document sets none.
const (
	DefaultServiceLevel  = 0.8
	DefaultAnswerWithin  = 5 * time.Minute
	DefaultForecastWeeks = 4
)

func (t Targets) staffing() (level float64, within time.Duration, weeks int) {
	level, within, weeks = DefaultServiceLevel, DefaultAnswerWithin, DefaultForecastWeeks
	if t.ServiceLevel > 0 {
		level = t.ServiceLevel
	}
	if d, err := time.ParseDuration(t.AnswerWithin); err == nil && d > 0 {
		within = d
	}
	if t.ForecastWeeks > 0 {
		weeks = t.ForecastWeeks
	}
	return level, within, weeks
}

// Headline is one figure of the desk with its target and the change from
// the previous period: what a dashboard tile and a pack's KPI row show.
type Headline struct {
	Figure   string   `json:"figure"`
	Value    float64  `json:"value"`
	Previous float64  `json:"previous"`
	Change   *float64 `json:"change"` // (value − previous) / previous; null when previous is 0
	Target   *float64 `json:"target"` // null without one
	// Better is "higher" or "lower": which way the figure should move.
	Better string `json:"better"`
	// OnTarget is whether the value meets the target (null without one).
	OnTarget *bool `json:"on_target"`
}

// Headlines are the desk-wide headline figures of m against prev and t.
func Headlines(m, prev Metrics, t Targets) []Headline {
	dur := func(s string) float64 {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0
		}
		return d.Seconds()
	}
	out := []Headline{
		headline("intake", float64(m.Intake), float64(prev.Intake), 0, ""),
		headline("resolved", float64(m.Resolved), float64(prev.Resolved), 0, ""),
		headline("backlog", float64(m.Backlog), float64(prev.Backlog), 0, "lower"),
		headline("first_response.median_seconds", m.FirstResponse.Median, prev.FirstResponse.Median, dur(t.FirstResponseMedian), "lower"),
		headline("resolution.median_seconds", m.Resolution.Median, prev.Resolution.Median, dur(t.ResolutionMedian), "lower"),
	}
	for _, metric := range []string{"first_response", "resolution"} {
		out = append(out, headline("sla_attainment."+metric, m.SLA[metric].Rate, prev.SLA[metric].Rate, t.SLAAttainment[metric], "higher"))
	}
	out = append(out,
		headline("reopen_rate", m.ReopenRate.Rate, prev.ReopenRate.Rate, t.ReopenRate, "lower"),
		headline("escalation_rate", m.EscalationRate.Rate, prev.EscalationRate.Rate, t.EscalationRate, "lower"),
		headline("repeat_rate", m.RepeatRate.Rate, prev.RepeatRate.Rate, t.RepeatRate, "lower"))
	return out
}

func headline(name string, v, prev, target float64, better string) Headline {
	h := Headline{Figure: name, Value: v, Previous: prev, Better: better}
	if better == "" {
		h.Better = "higher"
	}
	if prev != 0 {
		c := round4((v - prev) / prev)
		h.Change = &c
	}
	if target > 0 {
		h.Target = &target
		ok := v >= target
		if better == "lower" {
			ok = v <= target
		}
		h.OnTarget = &ok
	}
	return h
}
