package reviews

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/pack.html
var templateFS embed.FS

// Funcs are the template functions the pack's HTML uses; internal/web adds
// them to its own templates to show a pack inside the desk's layout.
var Funcs = template.FuncMap{
	"day":      func(t time.Time) string { return t.Format("2006-01-02") },
	"lastDay":  func(t time.Time) string { return t.Add(-time.Nanosecond).Format("2006-01-02") },
	"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"kpiValue": kpiValue,
	"duration": duration,
	"signed":   func(n int) string { return fmt.Sprintf("%+d", n) },
	"humanize": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"change":   change,
}

var packTemplate = template.Must(template.New("pack").Funcs(Funcs).ParseFS(templateFS, "templates/pack.html"))

// TargetLabel is the KPI's target as the pack shows it ("≥ 90 %"; "" without one).
func (k KPI) TargetLabel() string {
	if k.Target == nil {
		return ""
	}
	if k.Lower {
		return "≤ " + kpiValue(k.Unit, *k.Target)
	}
	return "≥ " + kpiValue(k.Unit, *k.Target)
}

// Verdict is "on target", "off target", or "" without a target.
func (k KPI) Verdict() string {
	switch {
	case k.OnTarget == nil:
		return ""
	case *k.OnTarget:
		return "on target"
	}
	return "off target"
}

func kpiValue(unit string, v float64) string {
	switch unit {
	case "rate":
		return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) + " %"
	case "seconds":
		return duration(v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// duration writes seconds as a short duration: 45 s, 12 min, 3.5 h, 2.1 d.
func duration(sec float64) string {
	switch {
	case sec == 0:
		return "—"
	case sec < 90:
		return fmt.Sprintf("%.0f s", sec)
	case sec < 90*60:
		return fmt.Sprintf("%.0f min", sec/60)
	case sec < 48*3600:
		return fmt.Sprintf("%.1f h", sec/3600)
	}
	return fmt.Sprintf("%.1f d", sec/86400)
}

func change(k KPI) string {
	d := k.Change()
	if d == 0 {
		return "="
	}
	arrow := "▲"
	if d < 0 {
		arrow = "▼"
	}
	if k.Unit == "rate" {
		return fmt.Sprintf("%s %+.1f pt", arrow, d*100)
	}
	if k.Unit == "seconds" {
		sign := "+"
		if d < 0 {
			sign, d = "−", -d
		}
		return arrow + " " + sign + duration(d)
	}
	return fmt.Sprintf("%s %+g", arrow, d)
}

// RenderFragment is the pack's HTML without the page around it (the
// desk's pack page shows it in its layout).
func RenderFragment(p *Pack) (template.HTML, error) {
	var b bytes.Buffer
	if err := packTemplate.ExecuteTemplate(&b, "pack", p); err != nil {
		return "", fmt.Errorf("review pack html: %w", err)
	}
	return template.HTML(b.String()), nil // html/template escaped it
}

// RenderHTML is the pack as a standalone HTML document: the mail's body,
// the download, what the PDF is printed from.
func RenderHTML(p *Pack) (string, error) {
	var b bytes.Buffer
	if err := packTemplate.ExecuteTemplate(&b, "document", p); err != nil {
		return "", fmt.Errorf("review pack html: %w", err)
	}
	return b.String(), nil
}

// plainText is the mail's text part: the title and the attention list.
func plainText(p *Pack) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s – %s\n\n", p.Title, p.Period.From.Format("2006-01-02"), p.Period.To.Add(-time.Nanosecond).Format("2006-01-02"))
	for _, k := range p.KPIs {
		fmt.Fprintf(&b, "%s: %s (%s before)\n", k.Name, kpiValue(k.Unit, k.Value), kpiValue(k.Unit, k.Previous))
	}
	if len(p.Attention) > 0 {
		b.WriteString("\nNeeds attention:\n")
		for _, a := range p.Attention {
			fmt.Fprintf(&b, "- %s: %s\n", a.Subject, a.Text)
		}
	}
	return b.String()
}

// WriteCSV writes the pack's figures one per line: section, key, figure,
// value, previous, target. Numbers are written as the metrics' CSV writes
// them, so a figure reads the same in both.
func (p *Pack) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	n := func(x int) string { return strconv.Itoa(x) }
	target := func(x float64) string { // "": none
		if x == 0 {
			return ""
		}
		return f(x)
	}
	rows := [][]string{{"section", "key", "figure", "value", "previous", "target"}}
	for _, k := range p.KPIs {
		t := ""
		if k.Target != nil {
			t = f(*k.Target)
		}
		rows = append(rows, []string{"kpis", "desk", k.Key, f(k.Value), f(k.Previous), t})
	}
	for _, c := range p.Categories {
		rows = append(rows, []string{"categories", c.Key, "intake", n(c.Intake), n(c.Previous), ""},
			[]string{"categories", c.Key, "sla_breaches", n(c.Breaches), "", ""})
	}
	for m, c := range p.Breaches.ByMetric {
		rows = append(rows, []string{"breaches", m, "sla_breaches", n(c), "", ""})
	}
	for _, c := range p.Breaches.Causes {
		rows = append(rows, []string{"breach_causes", c.Key, "sla_breaches", n(c.Count), "", ""})
	}
	e := p.Escalations
	rows = append(rows, []string{"escalations", "desk", "started", n(e.Started), n(e.Previous), ""},
		[]string{"escalations", "desk", "acknowledged", n(e.Acked), "", ""},
		[]string{"escalations", "desk", "ack_median_seconds", f(e.AckMedianSeconds), "", ""},
		[]string{"escalations", "desk", "still_open", n(e.StillOpen), "", ""})
	for _, in := range p.Incidents {
		rows = append(rows, []string{"incidents", in.Number, "mtta_seconds", f(in.MTTA), "", ""},
			[]string{"incidents", in.Number, "mttr_seconds", f(in.MTTR), "", ""})
	}
	rows = append(rows, []string{"actions", "desk", "open", n(p.Actions.Open), "", ""},
		[]string{"actions", "desk", "overdue", n(p.Actions.Overdue), "", ""},
		[]string{"actions", "desk", "done", n(p.Actions.Done), "", ""})
	if p.Problems != nil {
		for _, t := range p.Problems.Top {
			rows = append(rows, []string{"problems", strconv.FormatInt(t.ID, 10), "cases_linked", n(t.Cases), "", ""})
		}
	}
	for _, m := range p.Markets {
		rows = append(rows, []string{"markets", m.Market, "intake", n(m.Intake), n(m.PrevIntake), ""},
			[]string{"markets", m.Market, "resolved", n(m.Resolved), "", ""},
			[]string{"markets", m.Market, "backlog", n(m.Backlog), "", ""},
			[]string{"markets", m.Market, "sla_first_response_attainment", f(m.FirstResponse), f(m.PrevFirstResponse), target(p.Targets.SLAAttainment["first_response"])},
			[]string{"markets", m.Market, "sla_resolution_attainment", f(m.Resolution), "", target(p.Targets.SLAAttainment["resolution"])},
			[]string{"markets", m.Market, "first_response_median_seconds", f(m.FirstResponseMedian), "", ""},
			[]string{"markets", m.Market, "sla_breaches", n(m.Breaches), "", ""})
	}
	for _, a := range p.Attention {
		rows = append(rows, []string{"attention", a.Subject, a.Rule, a.Text, "", ""})
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("review pack csv: %w", err)
	}
	return nil
}

// ErrNoChromium means a PDF was asked for where no headless Chromium runs.
var ErrNoChromium = errors.New("a PDF is printed by headless Chromium, and none was found on this server: " +
	"install chromium or set FLARE_CHROMIUM to its path (the HTML and CSV downloads work without it)")

// chromium finds the browser: FLARE_CHROMIUM, else chromium or google-chrome on the PATH.
func chromium() (string, error) {
	if p := os.Getenv("FLARE_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// pdfTimeout bounds one print.
const pdfTimeout = 60 * time.Second

// RenderPDF prints the pack's HTML to PDF with headless Chromium.
func RenderPDF(ctx context.Context, p *Pack) ([]byte, error) {
	bin, err := chromium()
	if err != nil {
		return nil, ErrNoChromium
	}
	html, err := RenderHTML(p)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "flare-pack-*")
	if err != nil {
		return nil, fmt.Errorf("review pack pdf: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "pack.html"), filepath.Join(dir, "pack.pdf")
	if err := os.WriteFile(in, []byte(html), 0o600); err != nil {
		return nil, fmt.Errorf("review pack pdf: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+out, "file://"+in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("review pack pdf: chromium: %w: %s", err, lastLine(stderr.String()))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("review pack pdf: chromium wrote nothing: %w", err)
	}
	return b, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
