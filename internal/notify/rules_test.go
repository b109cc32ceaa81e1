package notify

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/events"
)

// The recipients rule as a pure function of events and facts.

var (
	owner   = Person{ID: 1, Email: "olga@x.example", Name: "Olga", Role: auth.RoleAgent, Teams: []string{"logistics"}}
	mate    = Person{ID: 2, Email: "mo@x.example", Name: "Mo", Role: auth.RoleAgent, Teams: []string{"logistics"}}
	lead    = Person{ID: 3, Email: "lea@x.example", Name: "Lea", Role: auth.RoleLead, Teams: []string{"logistics"}}
	am      = Person{ID: 4, Email: "ama@x.example", Name: "Ama", Role: auth.RoleAccountManager}
	watcher = Person{ID: 5, Email: "wes@x.example", Name: "Wes", Role: auth.RoleAgent, Teams: []string{"payments"}}
	payer   = Person{ID: 6, Email: "pia@x.example", Name: "Pia", Role: auth.RoleAgent, Teams: []string{"payments"}}
	oncall  = Person{ID: 7, Email: "otto@x.example", Name: "Otto", Role: auth.RoleAgent, Teams: []string{"trust_safety"}}
	actorP  = Person{ID: 8, Email: "act@x.example", Name: "Act", Role: auth.RoleAgent, Teams: []string{"logistics"}}
)

func facts() Facts {
	people := map[string]Person{}
	for _, p := range []Person{owner, mate, lead, am, watcher, payer, oncall, actorP} {
		people[p.Email] = p
	}
	return Facts{
		Owner: owner.Email, Watchers: []string{watcher.Email}, AccountManager: am.Email, People: people,
		Members: map[string][]string{"logistics": {owner.Email, mate.Email, lead.Email, actorP.Email}, "payments": {watcher.Email, payer.Email}},
	}
}

func ev(t events.Type, d events.Payload) events.Event {
	return events.Event{ID: "e1", Type: t, At: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC),
		Actor: events.Actor{ID: actorP.ID, Email: actorP.Email, Name: actorP.Name},
		Case:  &events.Case{ID: 42, Number: "ESC-42", Title: "Parcel lost", Team: "logistics", Priority: "P3", Status: "open", Sensitivity: "normal"},
		Data:  d}
}

// got renders recipients as "email:kind[:public]" for comparison.
func got(rs []Recipient) []string {
	var out []string
	for _, r := range rs {
		s := strings.SplitN(r.Email, "@", 2)[0] + ":" + string(r.Kind)
		if r.Public {
			s += ":public"
		}
		out = append(out, s)
	}
	return out
}

func TestRecipients(t *testing.T) {
	cases := []struct {
		name string
		e    events.Event
		edit func(*Facts)
		want []string
	}{
		{"assigned tells the new owner", ev(events.CaseAssigned, &events.Assigned{Owner: mate.Email, Via: "manual"}), nil,
			[]string{"mo:assigned"}},
		{"taking a case tells nobody", ev(events.CaseAssigned, &events.Assigned{Owner: actorP.Email, Via: "take_next"}), nil, nil},
		{"mentions in a note", ev(events.CaseNoteAdded, &events.Comment{Internal: true, Mentions: []string{mate.Email, payer.Email, actorP.Email}}), nil,
			[]string{"mo:mention", "pia:mention"}},
		{"an account manager is not told of an internal note", ev(events.CaseNoteAdded, &events.Comment{Internal: true, Mentions: []string{am.Email}}), nil, nil},
		{"an account manager is told of a public reply", ev(events.CaseReplied, &events.Comment{Mentions: []string{am.Email}}), nil,
			[]string{"ama:mention:public"}},
		{"a handoff tells the team asked", ev(events.HandoffRequested, &events.Handoff{FromTeam: "logistics", ToTeam: "payments", Request: "check"}), nil,
			[]string{"wes:handoff_requested", "pia:handoff_requested"}},
		{"its answer tells the owner", ev(events.HandoffCompleted, &events.Handoff{FromTeam: "logistics", ToTeam: "payments", Answer: "done"}), nil,
			[]string{"olga:handoff_answered"}},
		{"an accepted handoff tells nobody", ev(events.HandoffAccepted, &events.Handoff{ToTeam: "payments"}), nil, nil},
		{"an SLA warning tells the owner", ev(events.SLAWarning, &events.SLA{Metric: "first_response"}), nil, []string{"olga:sla_warning"}},
		{"a breach also the team's leads", ev(events.SLABreached, &events.SLA{Metric: "resolution"}), nil,
			[]string{"olga:sla_breach", "lea:sla_breach"}},
		{"an unowned case's warning tells the team", ev(events.SLAWarning, &events.SLA{Metric: "first_response"}),
			func(f *Facts) { f.Owner = "" }, []string{"olga:sla_warning", "mo:sla_warning", "lea:sla_warning"}},
		{"a clock met tells nobody", ev(events.SLAMet, &events.SLA{Metric: "first_response"}), nil, nil},
		{"an escalation tells its targets", ev(events.EscalationStarted, &events.Escalation{Level: 3, Targets: []string{oncall.Email, lead.Email}}), nil,
			[]string{"otto:escalation", "lea:escalation"}},
		{"a missed acknowledgement also the owner", ev(events.EscalationStepped, &events.Escalation{Level: 4, Targets: []string{oncall.Email}}), nil,
			[]string{"otto:escalation", "olga:ack_missed"}},
		{"an owner who is the target hears it once, as the target", ev(events.EscalationStepped, &events.Escalation{Level: 4, Targets: []string{owner.Email}}), nil,
			[]string{"olga:escalation"}},
		{"resolved: owner, watchers, account manager", ev(events.CaseStatusChanged, &events.StatusChanged{From: "open", To: "resolved", Resolution: "fixed"}), nil,
			[]string{"olga:resolved", "wes:status_changed:public", "ama:status_changed:public"}},
		{"reopened", ev(events.CaseStatusChanged, &events.StatusChanged{From: "resolved", To: "open", Reopened: true}), nil,
			[]string{"olga:reopened", "wes:status_changed:public", "ama:status_changed:public"}},
		{"another status: watchers and account manager only", ev(events.CaseStatusChanged, &events.StatusChanged{From: "open", To: "pending_requester"}), nil,
			[]string{"wes:status_changed:public", "ama:status_changed:public"}},
		{"a watcher who owns it hears resolved", ev(events.CaseStatusChanged, &events.StatusChanged{From: "open", To: "resolved"}),
			func(f *Facts) { f.Watchers = []string{owner.Email} }, []string{"olga:resolved", "ama:status_changed:public"}},
		{"an inactive or unknown person is not told", ev(events.CaseAssigned, &events.Assigned{Owner: "gone@x.example"}), nil, nil},
		{"a restricted case tells only who may see it", ev(events.CaseStatusChanged, &events.StatusChanged{From: "open", To: "resolved"}),
			func(f *Facts) {
				f.Sees = func(p Person) bool { return p.Role != auth.RoleAccountManager && slices.Contains(p.Teams, "logistics") }
			}, []string{"olga:resolved"}},
		{"case.changed tells nobody", ev(events.CaseChanged, &events.Changed{}), nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := facts()
			if c.edit != nil {
				c.edit(&f)
			}
			if g := got(Recipients(c.e, f)); !slices.Equal(g, c.want) {
				t.Fatalf("got %v, want %v", g, c.want)
			}
		})
	}
}

func TestUrgent(t *testing.T) {
	e := ev(events.SLABreached, &events.SLA{})
	if Urgent(e, KindSLABreach) {
		t.Fatal("a P3 breach is not urgent")
	}
	if !Urgent(e, KindEscalation) {
		t.Fatal("an escalation to you is urgent")
	}
	e.Case.Priority = "P1"
	if !Urgent(e, KindSLABreach) {
		t.Fatal("a P1 case is urgent")
	}
}

func TestQuietHours(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	la, _ := time.LoadLocation("America/Los_Angeles")
	q := &QuietHours{Start: "22:00", End: "07:00"}
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	cases := []struct {
		name string
		q    *QuietHours
		now  time.Time
		loc  *time.Location
		want time.Time // zero: not quiet
	}{
		{"daytime", q, at(london, 2026, 11, 2, 12, 0), london, time.Time{}},
		{"late evening: until tomorrow 07:00", q, at(london, 2026, 11, 2, 23, 30), london, at(london, 2026, 11, 3, 7, 0)},
		{"early morning: until 07:00 today", q, at(london, 2026, 11, 3, 6, 59), london, at(london, 2026, 11, 3, 7, 0)},
		{"07:00 is no longer quiet", q, at(london, 2026, 11, 3, 7, 0), london, time.Time{}},
		{"22:00 is quiet", q, at(london, 2026, 11, 2, 22, 0), london, at(london, 2026, 11, 3, 7, 0)},
		{"in the person's own zone", q, at(london, 2026, 11, 2, 23, 30), la, time.Time{}}, // 15:30 in Los Angeles
		{"a window within a day", &QuietHours{Start: "12:00", End: "13:30"}, at(la, 2026, 11, 2, 12, 15), la, at(la, 2026, 11, 2, 13, 30)},
		{"across the spring DST change", q, at(london, 2026, 3, 28, 23, 0), london, at(london, 2026, 3, 29, 7, 0)},
		{"nil: never quiet", nil, at(london, 2026, 11, 2, 23, 30), london, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.q.Until(c.now, c.loc)
			if !got.Equal(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	p := Preferences{Quiet: q}
	night := at(london, 2026, 11, 2, 23, 30)
	if p.HoldUntil(true, night, london) != (time.Time{}) {
		t.Fatal("urgent mail is held")
	}
	if p.HoldUntil(false, night, london).IsZero() {
		t.Fatal("other mail is not held")
	}
}

func TestPreferences(t *testing.T) {
	var p Preferences
	if !p.Wants(KindAssigned, Email) || !p.Wants(KindSLAWarning, InApp) || p.Wants(KindSLAWarning, Email) {
		t.Fatal("defaults")
	}
	p.Channels = map[Kind][]Channel{KindAssigned: {}, KindSLAWarning: {Email, InApp}}
	if p.Wants(KindAssigned, InApp) || !p.Wants(KindSLAWarning, Email) {
		t.Fatal("choices")
	}
	n := p.normalised()
	if _, ok := n.Channels[KindSLAWarning]; !ok || n.Channels[KindSLAWarning][0] != InApp {
		t.Fatalf("normalised: %v", n.Channels)
	}
	if ch, ok := n.Channels[KindAssigned]; !ok || len(ch) != 0 {
		t.Fatalf("an empty list turns a kind off and is kept: %v", n.Channels)
	}
	bad := Preferences{Channels: map[Kind][]Channel{"nope": {InApp}, KindMention: {"sms", InApp, InApp}},
		Quiet: &QuietHours{Start: "25:00", End: "7"}}
	err := bad.Validate()
	for _, field := range []string{"channels.nope", "channels.mention[0]", "channels.mention[2]", "quiet_hours.start", "quiet_hours.end"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("no problem for %s in %v", field, err)
		}
	}
}

// MayTell must never say "nobody" for an event Recipients tells someone
// of: every event type, its payload filled with people and teams the
// facts know, with and without an owner.
func TestMayTell(t *testing.T) {
	for _, typ := range events.Types() {
		var e events.Event
		if err := json.Unmarshal([]byte(`{"type":"`+string(typ)+`"}`), &e); err != nil {
			t.Fatal(err)
		}
		fill(reflect.ValueOf(e.Data).Elem())
		e = ev(typ, e.Data)
		for _, f := range []Facts{facts(), func() Facts { f := facts(); f.Owner = ""; return f }()} {
			if rs := Recipients(e, f); len(rs) > 0 && !MayTell(e) {
				t.Errorf("%s: MayTell says nobody, Recipients tells %v", typ, got(rs))
			}
		}
	}
	for typ, want := range map[events.Type]bool{events.CaseCreated: false, events.CaseRouted: false, events.CaseChanged: false,
		events.SLAMet: false, events.EscalationClosed: false, events.CaseStatusChanged: true, events.SLAWarning: true} {
		var e events.Event
		_ = json.Unmarshal([]byte(`{"type":"`+string(typ)+`"}`), &e)
		if got := MayTell(ev(typ, e.Data)); got != want {
			t.Errorf("MayTell(%s) = %v, want %v", typ, got, want)
		}
	}
}

// fill sets a payload's people and team fields to ones facts() knows.
func fill(v reflect.Value) {
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case f.Kind() == reflect.String && (name == "Owner" || name == "To"):
			f.SetString(mate.Email)
		case f.Kind() == reflect.String && strings.HasSuffix(name, "Team"):
			f.SetString("logistics")
		case f.Type() == reflect.TypeOf([]string(nil)):
			f.Set(reflect.ValueOf([]string{mate.Email, lead.Email}))
		}
	}
}

// The handler reads the members of the case's own team only for the events
// tellsCaseTeam names: for every other event type, its payload filled,
// Recipients tells the same people without them (teams the payload names
// are read for their own sake).
func TestTellsCaseTeam(t *testing.T) {
	for _, typ := range events.Types() {
		var e events.Event
		if err := json.Unmarshal([]byte(`{"type":"`+string(typ)+`"}`), &e); err != nil {
			t.Fatal(err)
		}
		fill(reflect.ValueOf(e.Data).Elem())
		e = ev(typ, e.Data)
		if tellsCaseTeam(e) {
			continue
		}
		named := false // a payload team: read whatever the case's team is
		v := reflect.ValueOf(e.Data).Elem()
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.String && strings.HasSuffix(v.Type().Field(i).Name, "Team") && f.String() == e.Case.Team {
				named = true
			}
		}
		for _, f := range []Facts{facts(), func() Facts { f := facts(); f.Owner = ""; return f }()} {
			without := f
			without.Members = map[string][]string{}
			for team, m := range f.Members {
				if team != e.Case.Team || named {
					without.Members[team] = m
				}
			}
			if a, b := got(Recipients(e, f)), got(Recipients(e, without)); !slices.Equal(a, b) {
				t.Errorf("%s: Recipients tells %v with the case's team read, %v without", typ, a, b)
			}
		}
	}
	if !tellsCaseTeam(ev(events.SLAWarning, &events.SLA{})) {
		t.Error("an unowned case's SLA warning goes to its team")
	}
}
