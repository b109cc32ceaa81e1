package signals

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// Chart draws points as a small inline SVG: the expected band (shaded),
// the expected line (dashed), the counts, and the anomalous buckets (red
// dots, from min score). Alert windows are shaded behind.
func Chart(pts []Point, alerts []*Alert, width, height int, min float64) string {
	if len(pts) == 0 {
		return ""
	}
	top := 1.0
	for _, p := range pts {
		top = math.Max(top, math.Max(p.Count, p.Hi))
	}
	top *= 1.1
	const pad = 2.0
	w, h := float64(width), float64(height)
	x := func(i int) float64 { return pad + (w-2*pad)*float64(i)/float64(max(len(pts)-1, 1)) }
	y := func(v float64) float64 { return h - pad - (h-2*pad)*v/top }
	t0, step := pts[0].At, Bucket
	xAt := func(t time.Time) float64 { return x(int(t.Sub(t0) / step)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="signal-chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		width, height, width, height, html.EscapeString(fmt.Sprintf("%d buckets from %s, up to %.0f", len(pts), t0.Format("2006-01-02 15:04"), top/1.1)))
	for _, a := range alerts {
		x0, x1 := xAt(a.WindowStart), xAt(a.WindowEnd)
		if x1 < pad || x0 > w-pad {
			continue
		}
		fmt.Fprintf(&b, `<rect class="alert-window" x="%.1f" y="0" width="%.1f" height="%d" fill="#fde2e1"/>`, math.Max(x0, pad), math.Max(x1-x0, 2), height)
	}
	// The band: hi along, lo back, for the scored points.
	var up, down []string
	for i, p := range pts {
		if p.Scored {
			up = append(up, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Hi)))
			down = append([]string{fmt.Sprintf("%.1f,%.1f", x(i), y(p.Lo))}, down...)
		}
	}
	if len(up) > 1 {
		fmt.Fprintf(&b, `<polygon class="band" points="%s" fill="#dbe8f6"/>`, strings.Join(append(up, down...), " "))
	}
	var exp, obs []string
	for i, p := range pts {
		if p.Scored {
			exp = append(exp, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Expected)))
		}
		obs = append(obs, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Count)))
	}
	if len(exp) > 1 {
		fmt.Fprintf(&b, `<polyline class="expected" points="%s" fill="none" stroke="#6b8fb8" stroke-dasharray="3 2" stroke-width="1"/>`, strings.Join(exp, " "))
	}
	fmt.Fprintf(&b, `<polyline class="observed" points="%s" fill="none" stroke="#1f2933" stroke-width="1.2"/>`, strings.Join(obs, " "))
	for i, p := range pts {
		if p.Anomalous(min) {
			fmt.Fprintf(&b, `<circle class="anomaly" cx="%.1f" cy="%.1f" r="3" fill="#c62828"><title>%s: %.0f, expected %.1f, score %.2f</title></circle>`,
				x(i), y(p.Count), p.At.Format("2006-01-02 15:04"), p.Count, p.Expected, p.Score)
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}
