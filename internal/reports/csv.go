package reports

import (
	"encoding/csv"
	"io"
	"strconv"
)

// column is one figure of Metrics as a CSV column.
type column struct {
	name string
	get  func(m Metrics) float64
}

// columns are the CSV columns, in the order docs/metrics.md lists them.
var columns = func() []column {
	cs := []column{
		{"intake", func(m Metrics) float64 { return float64(m.Intake) }},
		{"resolved", func(m Metrics) float64 { return float64(m.Resolved) }},
		{"backlog", func(m Metrics) float64 { return float64(m.Backlog) }},
	}
	for _, b := range AgeBuckets {
		cs = append(cs, column{"backlog_age_" + b.Name, func(m Metrics) float64 { return float64(m.BacklogAge[b.Name]) }})
	}
	for _, d := range []struct {
		name string
		get  func(m Metrics) Durations
	}{{"first_response", func(m Metrics) Durations { return m.FirstResponse }},
		{"first_response_business", func(m Metrics) Durations { return m.FirstResponseBusiness }},
		{"resolution", func(m Metrics) Durations { return m.Resolution }},
		{"resolution_business", func(m Metrics) Durations { return m.ResolutionBusiness }}} {
		cs = append(cs, column{d.name + "_median_seconds", func(m Metrics) float64 { return d.get(m).Median }},
			column{d.name + "_p90_seconds", func(m Metrics) float64 { return d.get(m).P90 }})
	}
	for _, metric := range []string{"first_response", "next_response", "resolution"} {
		cs = append(cs, column{"sla_" + metric + "_attainment", func(m Metrics) float64 { return m.SLA[metric].Rate }},
			column{"sla_" + metric + "_breaches", func(m Metrics) float64 { return float64(m.Breaches[metric]) }})
	}
	return append(cs,
		column{"reopen_rate", func(m Metrics) float64 { return m.ReopenRate.Rate }},
		column{"escalation_rate", func(m Metrics) float64 { return m.EscalationRate.Rate }},
		column{"repeat_rate", func(m Metrics) float64 { return m.RepeatRate.Rate }})
}()

// WriteCSV writes the report's slices, one row per slice and period
// ("current", then "previous"), a column per figure.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"period", "from", "to", "slice"}
	if r.By != "" {
		head[3] = r.By
	}
	for _, c := range columns {
		head = append(head, c.name)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, part := range []struct {
		name   string
		p      Period
		slices []Slice
	}{{"current", r.Period, r.Slices}, {"previous", r.Previous, r.PreviousSlices}} {
		for _, s := range part.slices {
			row := []string{part.name, part.p.From.UTC().Format("2006-01-02T15:04:05Z"), part.p.To.UTC().Format("2006-01-02T15:04:05Z"), s.Key}
			for _, c := range columns {
				row = append(row, strconv.FormatFloat(c.get(s.Metrics), 'f', -1, 64))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
