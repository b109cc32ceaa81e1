// Package alertmanager turns Prometheus Alertmanager's webhook
// notifications (POST /api/v1/intake/alertmanager/{key}, payload version 4)
// into cases: a firing group opens one case with channel alert, later
// notifications of the group add what changed to its timeline, and a
// resolved notification records the resolution (and resolves the case
// when the desk says so). The group's and its alerts' state is kept in its
// own tables, written in the intake's transaction, so that repeated
// notifications never duplicate.
package alertmanager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

// Payload is Alertmanager's webhook body, version 4
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
// Members Alertmanager may add later are ignored.
type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// The statuses of a notification and of an alert.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Limits on a notification.
const (
	MaxGroupKey = 2000
	MaxAlerts   = 1000 // input.MaxJSONItems
)

var (
	fingerprintRe = regexp.MustCompile(`^[0-9a-zA-Z]{1,64}$`)
	labelRe       = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,127}$`)
)

// Decode reads and checks a notification. Anything wrong is an
// *apperr.Invalid naming the member (HTTP 422).
func Decode(body []byte) (*Payload, error) {
	if _, err := webhook.DecodePayload(body); err != nil { // one object, the input rules
		if inv, ok := err.(*apperr.Invalid); ok {
			inv.Subject = "Alertmanager notification"
		}
		return nil, err
	}
	var p Payload
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&p); err != nil {
		return nil, &apperr.Invalid{Subject: "Alertmanager notification",
			Errors: []apperr.FieldError{{Field: "body", Message: "is not an Alertmanager webhook notification: " + input.Printable(err.Error())}}}
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Payload) validate() error {
	v := &apperr.Invalid{Subject: "Alertmanager notification"}
	if p.Version != "4" {
		v.Add("version", "must be \"4\" (Alertmanager's webhook payload version), not %q", p.Version)
	}
	switch {
	case p.GroupKey == "":
		v.Add("groupKey", "is required")
	case len(p.GroupKey) > MaxGroupKey || input.Param.Problem(p.GroupKey) != "":
		v.Add("groupKey", "must be one line of at most %d bytes", MaxGroupKey)
	}
	if p.Status != Firing && p.Status != Resolved {
		v.Add("status", "must be firing or resolved")
	}
	if len(p.Alerts) == 0 {
		v.Add("alerts", "a notification has at least one alert")
	}
	checkLabels(v, "groupLabels", p.GroupLabels)
	checkLabels(v, "commonLabels", p.CommonLabels)
	checkLabels(v, "commonAnnotations", p.CommonAnnotations)
	seen := map[string]bool{}
	for i, a := range p.Alerts {
		path := fmt.Sprintf("alerts[%d]", i)
		switch {
		case !fingerprintRe.MatchString(a.Fingerprint):
			v.Add(path+".fingerprint", "must be Alertmanager's fingerprint (1–64 letters and digits)")
		case seen[a.Fingerprint]:
			v.Add(path+".fingerprint", "%s is in the notification twice", a.Fingerprint)
		}
		seen[a.Fingerprint] = true
		if a.Status != Firing && a.Status != Resolved {
			v.Add(path+".status", "must be firing or resolved")
		}
		if a.StartsAt.IsZero() {
			v.Add(path+".startsAt", "is required")
		}
		checkLabels(v, path+".labels", a.Labels)
		checkLabels(v, path+".annotations", a.Annotations)
		input.Check(v, path+".generatorURL", input.Param, a.GeneratorURL)
	}
	input.Check(v, "externalURL", input.Param, p.ExternalURL)
	input.Check(v, "receiver", input.Name, p.Receiver)
	return v.Err()
}

func checkLabels(v *apperr.Invalid, path string, m map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !labelRe.MatchString(k) {
			v.Add(path, "%q is not a label name", input.Printable(k))
			continue
		}
		input.Check(v, path+"."+k, input.Text, m[k])
	}
}

// labelText writes labels as {a="x", b="y"}, sorted.
func labelText(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
