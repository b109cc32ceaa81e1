package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
)

// The demo desk's incidents: the incidents section (the escalations team
// commands, a seller liaison role, update templates for logistics
// disruptions, stakeholder groups, a carrier auto-link rule), four past
// incidents (two resolved major ones awaiting their postmortems, two
// closed minor ones) and one open SEV2 — a DPD hub outage in Germany,
// declared from a case, paged and acknowledged, with updates sent and the
// matching cases linked — so the screens have something real on them.

func incidentDesk(cfg *desk.Config) {
	lukas, hannah := personByKey("lukas").email(), personByKey("hannah").email()
	desk.Set(cfg, incidents.SettingsKey, incidents.Settings{
		CommanderTeam: "escalations",
		StepUp:        []string{personByKey("rachel").email()},
		Roles: []incidents.RoleDef{
			{Key: "seller_liaison", Name: "Seller liaison", Description: "keeps the affected key sellers informed, one voice"},
			{Key: "carrier_liaison", Name: "Carrier liaison", Description: "the line to the carrier's operations desk"},
		},
		Templates: []incidents.Template{
			{Name: "Carrier disruption: sellers", Type: incidents.TypeLogisticsDisruption, Audience: incidents.AudienceSellers,
				Body: "{{.Title}} ({{.Markets}}). Orders already shipped will arrive late; new labels are routed to other carriers where possible. Status: {{.Status}}.{{if .NextUpdate}} Next update by {{.NextUpdate}}.{{end}}"},
			{Name: "Carrier disruption: customers", Type: incidents.TypeLogisticsDisruption, Audience: incidents.AudiencePublic,
				Body: "A carrier problem is delaying deliveries in {{.Markets}}. Your parcel is safe and on its way; there is no need to contact us again. We will update you here."},
			{Name: "Carrier recovered", Type: incidents.TypeLogisticsDisruption, Audience: incidents.AudiencePublic, Kind: "resolve",
				Body: "Hello {{.Requester}},\n\nthe carrier disruption behind your request {{.Case}} is over and parcels are moving again. If yours has not arrived within 3 working days, reply here and we will refund or resend it."},
		},
		Stakeholders: []incidents.StakeholderGroup{
			{Key: "leadership", Name: "Leadership", Audience: incidents.AudienceLeaders, Users: []string{lukas, hannah},
				Severities: []incidents.Severity{incidents.SEV1, incidents.SEV2}},
			{Key: "account_managers", Name: "Account managers of affected sellers", Audience: incidents.AudienceSellers, AccountManagers: true},
			{Key: "logistics_team", Name: "Logistics team", Audience: incidents.AudienceInternal, Teams: []string{"logistics"}},
		},
		AutoLink: []incidents.AutoLinkRule{
			{Name: "Carrier disruption", Types: []incidents.Type{incidents.TypeLogisticsDisruption}, Categories: []string{"logistics/"},
				Keywords: []string{"tracking", "carrier", "not scanned", "courier", "dpd"}},
		},
	})
}

// pastIncident is a past incident of the demo: declared days ago, its key
// moments as offsets from the start, its end state.
type pastIncident struct {
	daysAgo                        int
	title, summary                 string
	typ                            incidents.Type
	sev                            incidents.Severity
	markets                        []string
	detect, ack, mitigate, resolve time.Duration
	commander, comms               string
	notes                          []string
	decision                       string
	public                         bool
	close                          bool
}

var pastIncidents = []pastIncident{
	{21, "Card payments failing at checkout in DE and NL", "The payment provider's 3-D Secure step timed out for Visa cards: checkout conversion fell 40%.",
		incidents.TypeService, incidents.SEV1, []string{"DE", "NL"}, 12 * time.Minute, 16 * time.Minute, 55 * time.Minute, 2*time.Hour + 10*time.Minute,
		"rachel", "sophie", []string{"Provider confirms elevated 3DS latency in their EU region.", "Failover to the secondary acquirer tested on 1% of traffic."},
		"Fail all Visa traffic over to the secondary acquirer.", false, false},
	{12, "Royal Mail strike: deliveries delayed across GB", "A 48-hour strike stopped Royal Mail collections; tracked parcels stopped scanning.",
		incidents.TypeLogisticsDisruption, incidents.SEV2, []string{"GB"}, 2 * time.Hour, 2*time.Hour + 9*time.Minute, 26 * time.Hour, 52 * time.Hour,
		"marcus", "aoife", []string{"Sellers asked to switch new labels to Evri for the duration."}, "Extend delivery promises by 3 days in GB.", true, false},
	{8, "Viral post about counterfeit trainers", "A widely shared post accused the marketplace of selling counterfeit trainers from two sellers.",
		incidents.TypeSocialMedia, incidents.SEV3, []string{"FR", "IT"}, 40 * time.Minute, time.Hour, 5 * time.Hour, 9 * time.Hour,
		"rachel", "camille", []string{"Both listings suspended pending authentication."}, "Publish a statement with the brand owner.", false, true},
	{5, "Shipping labels slow to print", "Label generation took up to 90 s for an hour after a deploy.",
		incidents.TypeService, incidents.SEV4, nil, 20 * time.Minute, 25 * time.Minute, time.Hour, 70 * time.Minute,
		"daniel", "", nil, "", false, true},
}

// loadIncidents writes the demo's incidents, at their times, acting as the
// desk's people.
func loadIncidents(ctx context.Context, a *app.App, actors map[string]auth.Actor, now time.Time) error {
	clk := clock.NewFake(now)
	caps := app.Wire(a.DB, a.Desk, clk, a.Log, nil)
	svc := caps.Incidents
	if page, err := svc.List(ctx, auth.System("demo"), incidents.Filter{Limit: 1}); err != nil || len(page.Incidents) > 0 {
		return err // loaded before
	}
	who := func(key string) auth.Actor { return actors[personByKey(key).email()] }
	return a.DB.InTx(ctx, func(tx *db.Tx) error {
		jctx := db.Join(ctx, tx)
		for _, p := range pastIncidents {
			if err := p.load(jctx, clk, caps, who, now); err != nil {
				return fmt.Errorf("demo incident %q: %w", p.title, err)
			}
		}
		return openIncident(jctx, clk, caps, who, now)
	})
}

func (p pastIncident) load(ctx context.Context, clk *clock.Fake, caps app.Capabilities, who func(string) auth.Actor, now time.Time) error {
	svc := caps.Incidents
	start := now.AddDate(0, 0, -p.daysAgo).Truncate(time.Minute)
	at := func(d time.Duration) *time.Time { t := start.Add(d); return &t }
	cmd := who(p.commander)
	clk.Set(start.Add(p.detect))
	inc, err := svc.Declare(ctx, cmd, incidents.DeclareInput{Title: p.title, Summary: p.summary, Type: p.typ, Severity: p.sev,
		Markets: p.markets, Commander: cmd.Email, StartedAt: at(0), DetectedAt: at(p.detect)}, nil)
	if err != nil {
		return err
	}
	if p.comms != "" {
		if _, err := svc.AssignRole(ctx, cmd, inc.Number, incidents.RoleComms, incidents.RoleInput{Email: who(p.comms).Email}); err != nil {
			return err
		}
	}
	step := (p.mitigate - p.ack) / time.Duration(len(p.notes)+2)
	clk.Set(start.Add(p.ack))
	if _, err := svc.CorrectMoment(ctx, cmd, inc.Number, incidents.Acknowledged, incidents.MomentInput{At: at(p.ack),
		Reason: "the commander took it in the incident channel"}); err != nil {
		return err
	}
	if _, err := svc.Transition(ctx, cmd, inc.Number, incidents.TransitionInput{To: incidents.Identified}); err != nil {
		return err
	}
	for i, n := range p.notes {
		clk.Set(start.Add(p.ack + step*time.Duration(i+1)))
		if _, err := svc.AddNote(ctx, cmd, inc.Number, incidents.NoteInput{Body: n}); err != nil {
			return err
		}
	}
	sender := cmd
	if p.comms != "" {
		sender = who(p.comms)
	}
	for _, au := range []incidents.Audience{incidents.AudienceInternal, incidents.AudienceLeaders} {
		if _, err := svc.PostUpdate(ctx, sender, inc.Number, incidents.UpdateInput{Audience: au}); err != nil {
			return err
		}
	}
	if p.public {
		if _, err := svc.PostUpdate(ctx, sender, inc.Number, incidents.UpdateInput{Audience: incidents.AudiencePublic}); err != nil {
			return err
		}
	}
	if p.decision != "" {
		clk.Set(start.Add(p.mitigate - time.Minute))
		if _, err := svc.AddNote(ctx, cmd, inc.Number, incidents.NoteInput{Body: p.decision, Decision: true}); err != nil {
			return err
		}
	}
	clk.Set(start.Add(p.mitigate))
	if _, err := svc.Transition(ctx, cmd, inc.Number, incidents.TransitionInput{To: incidents.Monitoring}); err != nil {
		return err
	}
	clk.Set(start.Add(p.resolve))
	if _, err := svc.Transition(ctx, cmd, inc.Number, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
		return err
	}
	if p.close { // minor: no postmortem required
		clk.Set(start.Add(p.resolve + 24*time.Hour))
		if _, err := svc.Transition(ctx, cmd, inc.Number, incidents.TransitionInput{To: incidents.Closed}); err != nil {
			return err
		}
	}
	return nil
}

// openIncident is the demo's open SEV2: declared from a DPD case in
// Germany three hours ago, the on-call commander paged and acknowledging
// four minutes later, roles handed out, updates sent, the matching open
// logistics cases in DE linked (new ones join through the auto-link rule).
func openIncident(ctx context.Context, clk *clock.Fake, caps app.Capabilities, who func(string) auth.Actor, now time.Time) error {
	svc := caps.Incidents
	rachel := who("rachel")
	page, err := caps.Cases.List(ctx, rachel, cases.ListFilter{Category: "logistics", Market: []string{"DE"},
		Status: []cases.Status{cases.StatusNew, cases.StatusOpen, cases.StatusPendingInternal, cases.StatusPendingRequester}, Limit: 60})
	if err != nil {
		return err
	}
	start := now.Add(-3 * time.Hour).Truncate(time.Minute)
	clk.Set(start.Add(20 * time.Minute))
	in := incidents.DeclareInput{Title: "DPD hub outage: parcels not scanned in Germany", Type: incidents.TypeLogisticsDisruption,
		Severity: incidents.SEV2, Markets: []string{"DE"},
		Summary:   "DPD's Hamburg sorting hub is down after a power failure: parcels from DE sellers are not scanned and tracking shows no movement.",
		StartedAt: &start}
	if len(page.Cases) > 0 {
		in.Case = page.Cases[len(page.Cases)-1].Number
	}
	inc, err := svc.Declare(ctx, who("daniel"), in, nil)
	if err != nil {
		return err
	}
	clk.Set(start.Add(24 * time.Minute))
	if _, err := svc.Acknowledge(ctx, rachel, inc.Number); err != nil {
		return err
	}
	for role, key := range map[string]string{incidents.RoleComms: "sophie", incidents.RoleScribe: "marcus", "carrier_liaison": "jonas"} {
		if _, err := svc.AssignRole(ctx, rachel, inc.Number, role, incidents.RoleInput{Email: who(key).Email}); err != nil {
			return err
		}
	}
	var refs []string
	for _, c := range page.Cases {
		refs = append(refs, c.Number)
	}
	clk.Set(start.Add(35 * time.Minute))
	if len(refs) > 0 {
		if _, err := svc.Link(ctx, rachel, inc.Number, incidents.LinkInput{Cases: refs}); err != nil {
			return err
		}
	}
	clk.Set(start.Add(50 * time.Minute))
	if _, err := svc.AddNote(ctx, who("marcus"), inc.Number, incidents.NoteInput{Body: "DPD ops confirm a power failure at the Hamburg hub; generators failed to start."}); err != nil {
		return err
	}
	if _, err := svc.Transition(ctx, rachel, inc.Number, incidents.TransitionInput{To: incidents.Identified}); err != nil {
		return err
	}
	clk.Set(start.Add(70 * time.Minute))
	if _, err := svc.AddNote(ctx, rachel, inc.Number, incidents.NoteInput{Decision: true,
		Body: "Route new DE labels to GLS until the hub is back; extend delivery promises by 2 days."}); err != nil {
		return err
	}
	sophie := who("sophie")
	for _, au := range []incidents.Audience{incidents.AudienceLeaders, incidents.AudienceSellers, incidents.AudiencePublic} {
		if _, err := svc.PostUpdate(ctx, sophie, inc.Number, incidents.UpdateInput{Audience: au}); err != nil {
			return err
		}
	}
	clk.Set(start.Add(130 * time.Minute))
	_, err = svc.PostUpdate(ctx, sophie, inc.Number, incidents.UpdateInput{Audience: incidents.AudienceInternal,
		Body: "Hub power restored; DPD expects scanning to resume within 2 hours. {{.LinkedCases}} cases linked so far."})
	return err
}
