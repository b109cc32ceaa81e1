package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/postmortems"
)

// The demo desk's postmortems: the two past major incidents get theirs —
// the card payments SEV1 published (its commander may close it now), the
// Royal Mail SEV2 waiting in review — each with the cases it affected linked and
// action items owned across teams, some done, some overdue, one of them
// the first admin's (the demo's API token), so "mine" has something.

// demoPostmortem is one past incident's postmortem (by the incident's
// title in pastIncidents).
type demoPostmortem struct {
	incident string
	link     cases.ListFilter // the cases it affected
	writer   string
	sections map[string]string
	publish  bool // else left in review
	items    []demoItem
}

// demoItem is an action item due dueDays after the incident started.
type demoItem struct {
	title, owner, team string
	dueDays            int
	status             postmortems.Status
}

var demoPostmortems = []demoPostmortem{
	{incident: "Card payments failing at checkout in DE and NL", writer: "daniel", publish: true,
		link: cases.ListFilter{Category: "payments", Market: []string{"DE", "NL"}, Limit: 14},
		sections: map[string]string{
			"summary": "For two hours on a weekday afternoon, Visa card payments at checkout in Germany and the Netherlands " +
				"failed or timed out at the 3-D Secure step. Conversion fell by 40%; payouts held for risk review piled up behind it. " +
				"Failing Visa traffic over to the secondary acquirer ended it.",
			"root_cause": "The payment provider moved its EU 3-D Secure servers to a new region without raising the timeout we " +
				"call it with. Our 8 s timeout was below their new p95, so about half of the challenges were cut off.",
			"contributing_factors": "- No alert on 3-D Secure latency per acquirer: the first signal was sellers' tickets.\n" +
				"- The failover to the secondary acquirer is a manual switch nobody had used in a year.",
			"went_well":  "- The commander was paged and acknowledged within 4 minutes.\n- One decision, written down, ended it.",
			"went_badly": "- Twelve minutes passed before anyone connected the seller tickets.\n- Tier-1 sellers heard from us late.",
		},
		items: []demoItem{
			{"Alert on 3-D Secure latency per acquirer", "jonas", "payments", 7, postmortems.InProgress},
			{"Automate the failover to the secondary acquirer", "daniel", "payments", 35, postmortems.Open},
			{"Runbook: payment provider outage", "rachel", "escalations", 10, postmortems.Done},
			{"Review the payments on-call rota with the provider's escalation contacts", "hannah", "logistics", 25, postmortems.Open},
		}},
	{incident: "Royal Mail strike: deliveries delayed across GB", writer: "marcus",
		link: cases.ListFilter{Category: "logistics", Market: []string{"GB"}, Limit: 20},
		sections: map[string]string{
			"summary": "A 48-hour Royal Mail strike stopped collections across Great Britain. Tracked parcels stopped scanning " +
				"and buyers and sellers contacted us in numbers; delivery promises were extended by three days.",
			"root_cause": "An announced strike, not a failure: we had no plan for a carrier being unavailable for days, so the " +
				"response was improvised — new labels moved to Evri by hand, seller by seller.",
			"went_well": "- The public update stopped most repeat contacts within a day.",
		},
		items: []demoItem{
			{"Agree a fallback carrier for GB strikes in advance", "priya", "logistics", 10, postmortems.Open},
			{"A delivery-promise switch per market in the admin", "hannah", "logistics", 9, postmortems.Open},
			{"Seller notice template for carrier strikes", "aoife", "escalations", 20, postmortems.Open},
		}},
}

// loadPostmortems writes the demo's postmortems after its incidents, at
// their times, acting as the desk's people.
func loadPostmortems(ctx context.Context, a *app.App, actors map[string]auth.Actor, now time.Time) error {
	clk := clock.NewFake(now)
	caps := app.Wire(a.DB, a.Desk, clk, a.Log, nil)
	who := func(key string) auth.Actor { return actors[personByKey(key).email()] }
	page, err := caps.Incidents.List(ctx, auth.System("demo"), incidents.Filter{Limit: 100})
	if err != nil {
		return err
	}
	byTitle := map[string]*incidents.Incident{}
	for _, inc := range page.Incidents {
		byTitle[inc.Title] = inc
	}
	return a.DB.InTx(ctx, func(tx *db.Tx) error {
		jctx := db.Join(ctx, tx)
		for _, d := range demoPostmortems {
			inc, ok := byTitle[d.incident]
			if !ok {
				continue
			}
			if _, err := caps.Postmortems.Get(jctx, who(d.writer), inc.Number); !errors.Is(err, apperr.ErrNotFound) {
				if err != nil {
					return err
				}
				continue // loaded before
			}
			if err := d.load(jctx, clk, caps, actors, inc); err != nil {
				return fmt.Errorf("demo postmortem of %s: %w", inc.Number, err)
			}
		}
		return nil
	})
}

func (d demoPostmortem) load(ctx context.Context, clk *clock.Fake, caps app.Capabilities, actors map[string]auth.Actor, inc *incidents.Incident) error {
	who := func(key string) auth.Actor { return actors[personByKey(key).email()] }
	start := inc.CreatedAt
	if inc.Moments.Started != nil {
		start = *inc.Moments.Started
	}
	resolved := start
	if inc.Moments.Resolved != nil {
		resolved = *inc.Moments.Resolved
	}
	writer := who(d.writer)
	clk.Set(resolved.Add(2 * time.Hour))
	found, err := caps.Cases.List(ctx, auth.System("demo"), d.link)
	if err != nil {
		return err
	}
	var refs []string
	for _, c := range found.Cases {
		refs = append(refs, c.Number)
	}
	if len(refs) > 0 {
		// Linked by an admin, who sees every case (the commander may not).
		if _, err := caps.Incidents.Link(ctx, who("lukas"), inc.Number, incidents.LinkInput{Cases: refs}); err != nil {
			return err
		}
	}
	clk.Set(resolved.Add(20 * time.Hour))
	p, err := caps.Postmortems.Start(ctx, writer, inc.Number, nil)
	if err != nil {
		return err
	}
	if p, err = caps.Postmortems.Edit(ctx, writer, inc.Number, postmortems.EditInput{Version: p.Version, Sections: d.sections}); err != nil {
		return err
	}
	for _, it := range d.items {
		item, err := caps.Postmortems.CreateItem(ctx, writer, inc.Number, postmortems.ItemInput{Title: it.title,
			Owner: personByKey(it.owner).email(), Team: it.team, DueDate: start.AddDate(0, 0, it.dueDays).Format(time.DateOnly)}, nil)
		if err != nil {
			return err
		}
		if it.status != postmortems.Open {
			clk.Set(resolved.Add(26 * time.Hour))
			st := it.status
			if _, err := caps.Postmortems.UpdateItem(ctx, who(it.owner), item.ID, postmortems.ItemPatch{Status: &st}); err != nil {
				return err
			}
			clk.Set(resolved.Add(20 * time.Hour))
		}
	}
	clk.Set(resolved.Add(30 * time.Hour))
	if _, err := caps.Postmortems.Transition(ctx, writer, inc.Number, postmortems.TransitionInput{To: postmortems.InReview}); err != nil {
		return err
	}
	if !d.publish {
		return nil
	}
	clk.Set(resolved.Add(50 * time.Hour))
	_, err = caps.Postmortems.Transition(ctx, who("sophie"), inc.Number, postmortems.TransitionInput{To: postmortems.Published})
	return err // the commander may close the incident now (left resolved for the demo to do)
}
