package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// Honest capacity: an agent's load shown against their capacity with a
// colour that turns at the limit, and a question before a case is given
// to someone already past it.

// loadBar is what a load meter shows: the bar never clamps an overload
// into a full green bar, and its class and words say where it stands.
type loadBar struct {
	Load, Capacity, Max, Low, Percent int
	Class                             string // ok, near (80 % or more), over (past capacity)
	Text                              string // "12 of 20", "27 of 20: over capacity"
}

func loadOf(load, capacity int) loadBar {
	b := loadBar{Load: load, Capacity: max(capacity, 1), Class: "ok"}
	b.Max, b.Low = max(b.Capacity, load), b.Capacity*8/10
	b.Percent = load * 100 / b.Capacity
	b.Text = fmt.Sprintf("%d of %d", load, b.Capacity)
	switch {
	case load > b.Capacity:
		b.Class, b.Text = "over", b.Text+fmt.Sprintf(": over capacity (%d %%)", b.Percent)
	case load == b.Capacity:
		b.Class, b.Text = "over", b.Text+": at capacity"
	case load >= b.Low:
		b.Class = "near"
	}
	return b
}

// capacityWarning says why giving c to owner needs a second thought ("":
// it does not): the load the case adds takes them past their capacity.
func (u *ui) capacityWarning(r *http.Request, a auth.Actor, c *cases.Case, owner string) (string, error) {
	if owner == "" || (c.Owner != nil && strings.EqualFold(*c.Owner, owner)) {
		return "", nil
	}
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return "", err
	}
	t, ok := cfg.Team(c.Team)
	if !ok {
		return "", nil
	}
	agents, err := u.s.app.Assignment.Agents(r.Context(), a, c.Team)
	if err != nil {
		return "", nil //nolint:nilerr // no team view for this actor: the owner rule itself still applies
	}
	for _, ag := range agents {
		if !strings.EqualFold(ag.Email, owner) {
			continue
		}
		after := ag.Load + t.Assignment.Weight(c.Priority)
		if after <= ag.Capacity {
			return "", nil
		}
		who := ag.Name
		if strings.EqualFold(owner, a.Email) {
			who = "You are"
		} else {
			who += " is"
		}
		return fmt.Sprintf("%s at %d of %d capacity; this %s case takes it to %d (%d %%).", who, ag.Load, ag.Capacity,
			c.Priority, after, after*100/max(ag.Capacity, 1)), nil
	}
	return "", nil
}

// confirmCapacity asks before an assignment past capacity: the page again
// with the warning and an "Assign anyway" button (a form field
// capacity_ok); true when it answered.
func (u *ui) confirmCapacity(w http.ResponseWriter, r *http.Request, a auth.Actor) (bool, error) {
	if err := r.ParseForm(); err != nil {
		return false, badRequest("The form could not be read.")
	}
	f := r.PostForm
	if !f.Has("owner") || f.Get("capacity_ok") != "" {
		return false, nil
	}
	c, err := u.s.app.Cases.Get(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return false, nil //nolint:nilerr // the update reports it
	}
	warn, err := u.capacityWarning(r, a, c, strings.TrimSpace(f.Get("owner")))
	if err != nil || warn == "" {
		return false, err
	}
	return true, u.renderCaseWith(w, r, a, c, http.StatusOK, func(d *caseData) {
		d.CapacityWarn, d.Form = warn, url.Values{"owner": {f.Get("owner")}}
	})
}
