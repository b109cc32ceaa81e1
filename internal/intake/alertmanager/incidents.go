package alertmanager

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/input"
)

// DeclareRule is an endpoint's rule that declares an incident when a group
// whose labels it matches fires:
//
//	incidents:
//	  - name: checkout-down
//	    match: {severity: critical, service: checkout}   # every label must have the value
//	    type: service
//	    severity: SEV1
//	    title: "{{.Labels.service}} down: {{.Annotations.summary}}"   # text/template on the group
//	    summary: "{{.Annotations.description}}"
//
// The group's case is linked to the incident. While that incident is open
// the group declares no other: its later notifications (and a new case
// after the last was resolved) join it, and a resolved notification is
// recorded on its timeline.
type DeclareRule struct {
	Name     string             `yaml:"name" json:"name"`
	Match    map[string]string  `yaml:"match" json:"match"`
	Type     incidents.Type     `yaml:"type" json:"type"`
	Severity incidents.Severity `yaml:"severity" json:"severity"`
	Title    string             `yaml:"title,omitempty" json:"title,omitempty"`
	Summary  string             `yaml:"summary,omitempty" json:"summary,omitempty"`
}

// Matches reports whether the rule takes a group with labels. Pure.
func (r DeclareRule) Matches(labels map[string]string) bool {
	for k, v := range r.Match {
		if labels[k] != v {
			return false
		}
	}
	return len(r.Match) > 0
}

var ruleNameRe = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// GroupData is what a rule's title and summary templates read.
type GroupData struct {
	Labels      map[string]string // the group's and common labels
	Annotations map[string]string // the common annotations
	Status      string
	Alerts      int
	Endpoint    string
}

// GroupDataOf is p's template data for endpoint key.
func GroupDataOf(key string, p *Payload) GroupData {
	labels := maps.Clone(p.CommonLabels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, p.GroupLabels)
	ann := p.CommonAnnotations
	if ann == nil {
		ann = map[string]string{}
	}
	return GroupData{Labels: labels, Annotations: ann, Status: p.Status, Alerts: len(p.Alerts), Endpoint: key}
}

func parseRuleTemplate(text string) (*template.Template, error) {
	return template.New("rule").Option("missingkey=zero").Parse(text)
}

// Render renders a rule's template text on d (a missing label is empty).
func Render(text string, d GroupData) (string, error) {
	t, err := parseRuleTemplate(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// validateRules checks an endpoint's declare rules (p is its path).
func validateRules(v *apperr.Invalid, p string, rules []DeclareRule) {
	seen := map[string]bool{}
	sample := GroupData{Labels: map[string]string{}, Annotations: map[string]string{}}
	for i, r := range rules {
		rp := fmt.Sprintf("%s.incidents[%d]", p, i)
		switch {
		case !ruleNameRe.MatchString(r.Name):
			v.Add(rp+".name", "must be 1–64 lower-case letters, digits, - and _")
		case seen[r.Name]:
			v.Add(rp+".name", "%q is used twice", r.Name)
		}
		seen[r.Name] = true
		if len(r.Match) == 0 {
			v.Add(rp+".match", "name the labels a group must have (for example severity: critical)")
		}
		for _, k := range slices.Sorted(maps.Keys(r.Match)) {
			if !labelRe.MatchString(k) {
				v.Add(rp+".match."+k, "must be a Prometheus label name")
			}
		}
		if !r.Type.Valid() {
			v.Add(rp+".type", "unknown incident type %q", r.Type)
		}
		if !r.Severity.Valid() {
			v.Add(rp+".severity", "unknown severity %q; one of SEV1, SEV2, SEV3, SEV4", r.Severity)
		}
		for field, text := range map[string]string{"title": r.Title, "summary": r.Summary} {
			if _, err := Render(text, sample); err != nil {
				v.Add(rp+"."+field, "not a template: %s", err.Error())
			}
		}
		input.Check(v, rp+".title", input.Title, r.Title)
		input.Check(v, rp+".summary", input.Text, r.Summary)
	}
}

// UseIncidents lets the endpoints' rules declare incidents (wiring; without
// it the rules do nothing).
func (s *Service) UseIncidents(inc *incidents.Service) { s.incidents = inc }

func (s *Service) hasRules(e Endpoint) bool { return s.incidents != nil && len(e.Incidents) > 0 }

// declareRules applies e's rules to notification p of the group whose case
// is c, in the notification's transaction: a firing group declares each
// matching rule's incident unless the one it declared is still open (then
// c is linked to that one); a group with no firing alert left records that
// on the timelines of the incidents it fired.
func (s *Service) declareRules(ctx context.Context, tx *db.Tx, actor auth.Actor, e Endpoint, p *Payload, c *cases.Case) error {
	if !s.hasRules(e) {
		return nil
	}
	if !slices.ContainsFunc(p.Alerts, func(a Alert) bool { return a.Status == Firing }) {
		return s.groupResolved(ctx, tx, actor, e.Key, p)
	}
	if c == nil {
		return nil
	}
	d := GroupDataOf(e.Key, p)
	now := s.clock.Now()
	jctx := db.Join(ctx, tx)
	for _, r := range e.Incidents {
		if !r.Matches(d.Labels) {
			continue
		}
		// The rule's row, claimed first: a concurrent notification of the
		// same group waits for this transaction (PostgreSQL's row lock;
		// SQLite has one writer), so it never declares a second incident.
		var incID int64
		if err := tx.QueryRow(ctx, `INSERT INTO intake_alert_incidents (endpoint, group_key, rule, incident_id, firing, updated_at)
			VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (endpoint, group_key, rule) DO UPDATE SET firing = excluded.firing,
			updated_at = excluded.updated_at RETURNING incident_id`, e.Key, p.GroupKey, r.Name, true, db.T(now)).Scan(&incID); err != nil {
			return fmt.Errorf("alert group incident: %w", err)
		}
		if incID != 0 {
			inc, err := s.incidents.ByIDInTx(ctx, tx, incID)
			if err != nil {
				return err
			}
			if inc.Status.Active() {
				if _, err := s.incidents.LinkInTx(ctx, tx, actor, incID, c, "alert group"); err != nil {
					return err
				}
				continue
			}
		}
		in, err := declareInput(r, d, p, c, now)
		if err != nil {
			return err
		}
		inc, err := s.incidents.Declare(jctx, actor, in, nil)
		if err != nil {
			return fmt.Errorf("declare from rule %s: %w", r.Name, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE intake_alert_incidents SET incident_id = ? WHERE endpoint = ? AND group_key = ? AND rule = ?`,
			inc.ID, e.Key, p.GroupKey, r.Name); err != nil {
			return fmt.Errorf("alert group incident: %w", err)
		}
	}
	return nil
}

// declareInput is the incident rule r declares for the group (data d) whose
// case is c.
func declareInput(r DeclareRule, d GroupData, p *Payload, c *cases.Case, now time.Time) (incidents.DeclareInput, error) {
	title, err := Render(r.Title, d)
	if err != nil {
		return incidents.DeclareInput{}, err // checked when the desk was applied
	}
	if title == "" {
		title = Title(p)
	}
	summary, err := Render(r.Summary, d)
	if err != nil {
		return incidents.DeclareInput{}, err
	}
	if summary == "" {
		summary = fmt.Sprintf("Declared by the Alertmanager rule %q of endpoint %s for the group %s.", r.Name, d.Endpoint, labelText(p.GroupLabels))
	}
	in := incidents.DeclareInput{Title: clip(strings.Join(strings.Fields(title), " "), 150), Summary: clip(summary, 10_000), Type: r.Type,
		Severity: r.Severity, Case: c.Number}
	// Started when the group's first alert started (Alertmanager's own clock).
	for _, a := range p.Alerts {
		if a.Status == Firing && !a.StartsAt.IsZero() && !a.StartsAt.After(now) && (in.StartedAt == nil || a.StartsAt.Before(*in.StartedAt)) {
			at := a.StartsAt.UTC()
			in.StartedAt = &at
		}
	}
	return in, nil
}

func clip(s string, n int) string {
	if r := []rune(s); n > 0 && len(r) > n {
		return strings.TrimSpace(string(r[:n]))
	}
	return s
}

// groupResolved records, once per firing, that every alert of the group
// resolved on the timeline of each incident its rules declared and that is
// not closed.
func (s *Service) groupResolved(ctx context.Context, tx *db.Tx, actor auth.Actor, key string, p *Payload) error {
	rows, err := tx.Query(ctx, `SELECT rule, incident_id FROM intake_alert_incidents
		WHERE endpoint = ? AND group_key = ? AND firing = ? AND incident_id <> 0 ORDER BY rule`, key, p.GroupKey, true)
	if err != nil {
		return fmt.Errorf("alert group incidents: %w", err)
	}
	type hit struct {
		rule string
		id   int64
	}
	hits, err := db.Collect(rows, func(r db.Scanner) (hit, error) {
		var h hit
		return h, r.Scan(&h.rule, &h.id)
	})
	if err != nil {
		return fmt.Errorf("alert group incidents: %w", err)
	}
	for _, h := range hits {
		if _, err := tx.Exec(ctx, `UPDATE intake_alert_incidents SET firing = ?, updated_at = ? WHERE endpoint = ? AND group_key = ? AND rule = ?`,
			false, db.T(s.clock.Now()), key, p.GroupKey, h.rule); err != nil {
			return fmt.Errorf("alert group incident: %w", err)
		}
		inc, err := s.incidents.ByIDInTx(ctx, tx, h.id)
		if err != nil {
			return err
		}
		if inc.Status == incidents.Closed {
			continue
		}
		if err := s.incidents.RecordInTx(ctx, tx, actor, h.id, "alert_group_resolved", Title(p), map[string]any{
			"endpoint": key, "group": labelText(p.GroupLabels), "rule": h.rule, "alerts": len(p.Alerts)}); err != nil {
			return err
		}
	}
	return nil
}
