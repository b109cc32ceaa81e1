package alertmanager

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// State is what Flare last recorded of one alert of a group.
type State struct {
	Fingerprint string
	Status      string
	StartsAt    time.Time
	EndsAt      time.Time
}

// Change is what a notification says that Flare has not recorded yet.
type Change struct {
	Alert Alert
	Kind  string // ChangeNew, ChangeResolved, ChangeRefired
}

// The kinds of Change.
const (
	ChangeNew      = "new"      // an alert the group had not had
	ChangeResolved = "resolved" // a firing alert resolved
	ChangeRefired  = "refired"  // a resolved alert firing again (or firing since another time)
)

// Diff compares a notification's alerts with the recorded ones: the
// changes, in the notification's order. A notification that repeats what
// is recorded (Alertmanager's repeat_interval, a retry) has none.
func Diff(recorded []State, p *Payload) []Change {
	byFP := make(map[string]State, len(recorded))
	for _, s := range recorded {
		byFP[s.Fingerprint] = s
	}
	var out []Change
	for _, a := range p.Alerts {
		s, ok := byFP[a.Fingerprint]
		switch {
		case !ok && a.Status == Resolved:
			out = append(out, Change{a, ChangeResolved}) // fired and resolved between two notifications
		case !ok:
			out = append(out, Change{a, ChangeNew})
		case s.Status == Firing && a.Status == Resolved:
			out = append(out, Change{a, ChangeResolved})
		case a.Status == Firing && (s.Status == Resolved || !s.StartsAt.Equal(a.StartsAt)):
			out = append(out, Change{a, ChangeRefired})
		}
	}
	return out
}

// States is the recorded state after a notification.
func States(p *Payload) []State {
	out := make([]State, len(p.Alerts))
	for i, a := range p.Alerts {
		out[i] = State{Fingerprint: a.Fingerprint, Status: a.Status, StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt.UTC()}
	}
	return out
}

// AllResolved reports whether the group has no firing alert left once p
// is recorded over recorded.
func AllResolved(recorded []State, p *Payload) bool {
	status := map[string]string{}
	for _, s := range recorded {
		status[s.Fingerprint] = s.Status
	}
	for _, a := range p.Alerts {
		status[a.Fingerprint] = a.Status
	}
	for _, s := range status {
		if s == Firing {
			return false
		}
	}
	return true
}

// Digest identifies a set of changes: the same changes sent twice (a retry
// racing the first) are one submission to the intake.
func Digest(groupKey string, changes []Change) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", groupKey)
	for _, c := range changes {
		fmt.Fprintf(h, "%s %s %s", c.Alert.Fingerprint, c.Kind, c.Alert.StartsAt.UTC().Format(time.RFC3339Nano))
		if c.Alert.Status == Resolved { // a firing alert's endsAt moves with every re-send
			fmt.Fprintf(h, " %s", c.Alert.EndsAt.UTC().Format(time.RFC3339Nano))
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// alertName is an alert's name: its alertname label, else its fingerprint.
func alertName(a Alert) string {
	if n := a.Labels["alertname"]; n != "" {
		return n
	}
	return a.Fingerprint
}

// Title is a new case's title for a group.
func Title(p *Payload) string {
	name := p.CommonLabels["alertname"]
	if name == "" {
		name = p.GroupLabels["alertname"]
	}
	if s := strings.TrimSpace(p.CommonAnnotations["summary"]); s != "" {
		if name != "" {
			return name + ": " + s
		}
		return s
	}
	if name == "" {
		name = "Alert group"
	}
	others := map[string]string{}
	for k, v := range p.GroupLabels {
		if k != "alertname" {
			others[k] = v
		}
	}
	if len(others) > 0 {
		return name + " " + labelText(others)
	}
	return name
}

// Description is a new case's description: the group and its alerts.
func Description(p *Payload) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Alertmanager group %s (receiver %s), %s.\n", labelText(p.GroupLabels), p.Receiver, p.Status)
	if d := p.CommonAnnotations["description"]; d != "" {
		fmt.Fprintf(&b, "\n%s\n", d)
	}
	b.WriteString("\n")
	for _, a := range p.Alerts {
		writeAlert(&b, a, a.Status)
	}
	if p.TruncatedAlerts > 0 {
		fmt.Fprintf(&b, "\n%d more alerts were left out by Alertmanager.\n", p.TruncatedAlerts)
	}
	if p.ExternalURL != "" {
		fmt.Fprintf(&b, "\nAlertmanager: %s\n", p.ExternalURL)
	}
	return b.String()
}

// Update is the timeline text of a notification's changes.
func Update(p *Payload, changes []Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Alertmanager: the group is %s.\n\n", p.Status)
	for _, c := range changes {
		writeAlert(&b, c.Alert, c.Kind)
	}
	return b.String()
}

func writeAlert(b *strings.Builder, a Alert, kind string) {
	fmt.Fprintf(b, "- **%s** %s (%s), since %s", alertName(a), kind, a.Fingerprint, a.StartsAt.UTC().Format(time.RFC3339))
	if a.Status == Resolved && !a.EndsAt.IsZero() {
		fmt.Fprintf(b, ", ended %s", a.EndsAt.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	labels := map[string]string{}
	for k, v := range a.Labels {
		if k != "alertname" {
			labels[k] = v
		}
	}
	if len(labels) > 0 {
		fmt.Fprintf(b, "  labels %s\n", labelText(labels))
	}
	for _, k := range slices.Sorted(maps.Keys(a.Annotations)) {
		fmt.Fprintf(b, "  %s: %s\n", k, strings.ReplaceAll(a.Annotations[k], "\n", " "))
	}
	if a.GeneratorURL != "" {
		fmt.Fprintf(b, "  source: %s\n", a.GeneratorURL)
	}
}
