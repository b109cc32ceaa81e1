package oncall_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/oncall"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

var t0 = apptest.T0 // Monday 2 November 2026, 09:00 UTC: winter in London and Los Angeles

const (
	amelia = "amelia.clarke@flare.example" // admin
	jonas  = "jonas.weber@flare.example"   // lead
	marcus = "marcus.reed@flare.example"   // agent
	priya  = "priya.shah@flare.example"    // agent
)

// followTheSun is trust & safety's schedule on the example desk: Europe by
// day in London (on top), the US the rest of the day in Los Angeles.
func followTheSun() rota.Schedule {
	return rota.Schedule{Team: "trust_safety", Layers: []rota.Layer{
		{Name: "US", Rotation: rota.Weekly, Timezone: "America/Los_Angeles", Start: "2026-10-05", Handoff: "10:00",
			Participants: []string{marcus}, Window: "10:00-24:00"},
		{Name: "EMEA", Rotation: rota.Daily, Timezone: "Europe/London", Start: "2026-10-05", Handoff: "07:00",
			Participants: []string{amelia, jonas}, Window: "07:00-19:00"},
	}, Overrides: []rota.Override{{Person: priya, From: "2026-11-03T07:00:00Z", To: "2026-11-03T12:00:00Z", Reason: "training swap"}}}
}

func newFixture(t *testing.T, d *db.DB, ss ...rota.Schedule) *apptest.Fixture {
	t.Helper()
	f := apptest.New(t, d)
	if len(ss) == 0 {
		ss = []rota.Schedule{followTheSun()}
	}
	f.Reapply(t, func(c *desk.Config) { desk.Set(c, oncall.SchedulesKey, ss) })
	return f
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	apptest.WantInvalid(t, err, field)
}

func wantForbidden(t *testing.T, err error) {
	t.Helper()
	var fb *apperr.Forbidden
	if !errors.As(err, &fb) {
		t.Fatalf("want forbidden, got %v", err)
	}
}

func onCall(t *testing.T, f *apptest.Fixture, at time.Time) string {
	t.Helper()
	got, err := f.App.OnCall.OnCallAt(context.Background(), "trust_safety", at)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 1 {
		t.Fatalf("several on call: %v", got)
	}
	if len(got) == 0 {
		return ""
	}
	return got[0]
}

func TestOnCallAt(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		// EMEA's daily rotation started on Monday 5 October with Amelia: on
		// Monday 2 November (day 28) it is her turn again.
		for at, want := range map[time.Time]string{
			t0:                     amelia,
			t0.Add(10 * time.Hour): marcus, // 19:00 London, 11:00 Los Angeles
			t0.Add(21 * time.Hour): marcus, // Tuesday 06:00 UTC: 22:00 in Los Angeles
			t0.Add(22 * time.Hour): priya,  // Tuesday 07:00: Jonas's EMEA turn, but the standing override
			t0.Add(26 * time.Hour): priya,
			t0.Add(27 * time.Hour): jonas, // Tuesday 12:00: the override is over
		} {
			if got := onCall(t, f, at); got != want {
				t.Errorf("at %s: %q, want %q", at, got, want)
			}
		}
		if _, err := f.App.OnCall.OnCallAt(ctx, "nope", t0); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("unknown team: %v", err)
		}
		if got, err := f.App.OnCall.OnCallAt(ctx, "logistics", t0); err != nil || len(got) != 0 {
			t.Errorf("a team without a schedule: %v %v", got, err)
		}
	})
}

func TestOverrides(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		svc := f.App.OnCall
		lead, agent, admin := f.Actor("jonas.weber"), f.Actor("priya.shah"), f.Actor("amelia.clarke")
		at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
		count := func() int {
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM oncall_overrides`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// Marcus covers Amelia's morning across no hand-off, then lead Jonas
		// covers the EMEA hand-off to himself on Tuesday at 07:00 London.
		o, err := svc.AddOverride(ctx, lead, "trust_safety", oncall.OverrideInput{Person: "Marcus.Reed@flare.example",
			From: at(time.Hour), To: at(3 * time.Hour), Reason: "Amelia at the dentist"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if o.Person != marcus || o.Source != "api" || !o.From.Equal(t0.Add(time.Hour)) || *o.CreatedBy != jonas {
			t.Errorf("override %+v", o)
		}
		if got := onCall(t, f, t0.Add(2*time.Hour)); got != marcus {
			t.Errorf("during the override: %s", got)
		}
		if got := onCall(t, f, t0.Add(3*time.Hour)); got != amelia {
			t.Errorf("after the override: %s", got)
		}
		over, err := svc.AddOverride(ctx, admin, "trust_safety", oncall.OverrideInput{Person: amelia,
			From: at(21 * time.Hour), To: at(23*time.Hour + 30*time.Minute)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := svc.Shifts(ctx, agent, "trust_safety", t0.Add(21*time.Hour), t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range ts.Shifts {
			got = append(got, s.Start.Format("15:04")+" "+s.Person+" "+s.Source+" covering "+s.Covers)
		}
		// 06:00–07:00 UTC: Amelia covers Marcus (US until midnight in LA);
		// 07:00: the hand-off to Jonas, covered by Amelia, then the standing
		// override (Priya) from 07:00 is below the later API one until 08:30.
		want := []string{
			"06:00 " + amelia + " override covering " + marcus,
			"07:00 " + amelia + " override covering " + jonas,
			"08:30 " + priya + " override covering " + jonas,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("shifts over the hand-off:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !strings.Contains(ts.Shifts[1].Why, "covering Jonas Weber") || ts.Shifts[1].CoversName != "Jonas Weber" {
			t.Errorf("why: %+v", ts.Shifts[1])
		}

		// Who may, and bad input: nothing is written.
		n := count()
		_, err = svc.AddOverride(ctx, agent, "trust_safety", oncall.OverrideInput{Person: priya, From: at(0), To: at(time.Hour)}, nil)
		wantForbidden(t, err)
		for field, in := range map[string]oncall.OverrideInput{
			"person": {Person: "nobody@flare.example", From: at(0), To: at(time.Hour)},
			"to":     {Person: priya, From: at(-2 * time.Hour), To: at(-time.Hour)},
			"from":   {Person: priya, From: "tomorrow", To: at(time.Hour)},
			"reason": {Person: priya, From: at(0), To: at(time.Hour), Reason: "a\x00b"},
		} {
			_, err := svc.AddOverride(ctx, lead, "trust_safety", in, nil)
			wantInvalid(t, err, field)
		}
		_, err = svc.AddOverride(ctx, lead, "trust_safety", oncall.OverrideInput{Person: "sophie.martin@flare.example", From: at(0), To: at(time.Hour)}, nil)
		wantInvalid(t, err, "person") // an account manager cannot be on call
		_, err = svc.AddOverride(ctx, lead, "trust_safety", oncall.OverrideInput{Person: priya, From: at(0), To: at(32 * 24 * time.Hour)}, nil)
		wantInvalid(t, err, "to")
		if _, err := svc.AddOverride(ctx, lead, "nope", oncall.OverrideInput{Person: priya, From: at(0), To: at(time.Hour)}, nil); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("unknown team: %v", err)
		}
		if count() != n {
			t.Fatal("a refused override was written")
		}
		// A start in the past starts now: the past is not rewritten.
		past, err := svc.AddOverride(ctx, lead, "logistics", oncall.OverrideInput{Person: priya, From: at(-time.Hour), To: at(time.Hour)}, nil)
		if err != nil || !past.From.Equal(t0) {
			t.Fatalf("%+v %v", past, err)
		}

		// Ending overrides: one yet to start is cancelled, one under way ends
		// now, one over stays.
		f.Clock.Advance(2 * time.Hour)
		ended, err := svc.EndOverride(ctx, lead, "trust_safety", o.ID)
		if err != nil || !ended.To.Equal(t0.Add(2*time.Hour)) || ended.CancelledAt != nil {
			t.Fatalf("end under way: %+v %v", ended, err)
		}
		if got := onCall(t, f, t0.Add(2*time.Hour)); got != amelia {
			t.Errorf("after ending the override: %s", got)
		}
		if got := onCall(t, f, t0.Add(90*time.Minute)); got != marcus {
			t.Errorf("the past is kept: %s", got)
		}
		if _, err := svc.EndOverride(ctx, lead, "trust_safety", o.ID); !isConflict(err) {
			t.Errorf("ending an override that is over: %v", err)
		}
		cancelled, err := svc.EndOverride(ctx, admin, "trust_safety", over.ID)
		if err != nil || cancelled.CancelledAt == nil || *cancelled.CancelledBy != amelia {
			t.Fatalf("cancel: %+v %v", cancelled, err)
		}
		if got := onCall(t, f, t0.Add(21*time.Hour+30*time.Minute)); got != marcus {
			t.Errorf("the cancelled override still applies: %s", got)
		}
		if _, err := svc.EndOverride(ctx, lead, "logistics", over.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("another team's override: %v", err)
		}
		_, err = svc.EndOverride(ctx, agent, "trust_safety", over.ID)
		wantForbidden(t, err)

		// The list: standing overrides first, then those made, not cancelled.
		list, err := svc.Overrides(ctx, agent, "trust_safety", t0, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Source != "desk" || list[0].Ref != "desk:0" || list[0].PersonName != "Priya Shah" ||
			list[1].ID != o.ID {
			t.Errorf("overrides %+v", list)
		}
		_, err = svc.Overrides(ctx, f.Actor("sophie.martin"), "trust_safety", t0, time.Time{})
		wantForbidden(t, err)

		var audits int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'oncall_override'`).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if audits != 5 { // three made, one ended, one cancelled
			t.Errorf("%d audit records", audits)
		}
	})
}

func isConflict(err error) bool {
	var cf *apperr.Conflict
	return errors.As(err, &cf)
}

func TestWho(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		ans, err := f.App.OnCall.Who(ctx, f.Actor("priya.shah"), nil, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.Teams) != 4 || ans.Teams[0].Team != "trust_safety" || !ans.Teams[0].Schedule || ans.Teams[1].Schedule {
			t.Fatalf("teams %+v", ans.Teams)
		}
		ts := ans.Teams[0]
		if ts.OnCall == nil || ts.OnCall.Person != amelia || ts.OnCall.Name != "Amelia Clarke" ||
			!ts.OnCall.Start.Equal(t0.Add(-2*time.Hour)) || !ts.OnCall.End.Equal(t0.Add(10*time.Hour)) {
			t.Errorf("on call %+v", ts.OnCall)
		}
		if !strings.Contains(ts.OnCall.Why, "layer “EMEA”: turn 29 of its daily rotation") || !strings.Contains(ts.OnCall.Why, "window 07:00-19:00") {
			t.Errorf("why %q", ts.OnCall.Why)
		}
		if ts.Next == nil || ts.Next.Person != marcus || !ts.Next.Start.Equal(ts.OnCall.End) {
			t.Errorf("next %+v", ts.Next)
		}
		if ans.Teams[1].OnCall != nil {
			t.Errorf("a team without a schedule has someone on call: %+v", ans.Teams[1])
		}
		_, err = f.App.OnCall.Who(ctx, f.Actor("priya.shah"), []string{"nope"}, t0)
		wantInvalid(t, err, "team")
		_, err = f.App.OnCall.Who(ctx, f.Actor("sophie.martin"), nil, t0)
		wantForbidden(t, err)
		if _, err := f.App.OnCall.Shifts(ctx, f.Actor("priya.shah"), "trust_safety", t0, t0.Add(93*24*time.Hour)); err == nil {
			t.Error("a range beyond 92 days")
		}
	})
}

func TestFeeds(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		svc := f.App.OnCall
		lead := f.Actor("jonas.weber")
		_, err := svc.CreateFeed(ctx, f.Actor("priya.shah"), "trust_safety", "mine")
		wantForbidden(t, err)
		feed, err := svc.CreateFeed(ctx, lead, "trust_safety", "Team calendar")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(feed.Token, oncall.FeedTokenPrefix) || feed.CreatedBy != jonas {
			t.Fatalf("feed %+v", feed)
		}
		var stored string
		if err := d.QueryRow(ctx, `SELECT token_hash FROM oncall_feeds WHERE id = ?`, feed.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, strings.TrimPrefix(feed.Token, oncall.FeedTokenPrefix)) || len(stored) != 64 {
			t.Fatalf("the token is stored as %q", stored)
		}
		cal, err := svc.FeedCalendar(ctx, "trust_safety", feed.Token)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(cal, []byte("BEGIN:VCALENDAR\r\n")) || !bytes.Contains(cal, []byte("SUMMARY:On call: Amelia Clarke\r\n")) {
			t.Fatalf("calendar:\n%s", cal)
		}
		for _, bad := range []struct{ team, token string }{
			{"logistics", feed.Token}, {"trust_safety", feed.Token[:len(feed.Token)-1] + "x"}, {"trust_safety", ""},
			{"trust_safety", "flr_" + strings.TrimPrefix(feed.Token, oncall.FeedTokenPrefix)},
		} {
			if _, err := svc.FeedCalendar(ctx, bad.team, bad.token); !errors.Is(err, apperr.ErrNotFound) {
				t.Errorf("%s %q: %v", bad.team, bad.token, err)
			}
		}
		other, err := svc.CreateFeed(ctx, lead, "trust_safety", "")
		if err != nil || other.Name != "Calendar feed" {
			t.Fatal(other, err)
		}
		if r, err := svc.RevokeFeed(ctx, lead, "trust_safety", feed.ID); err != nil || r.RevokedAt == nil {
			t.Fatal(r, err)
		}
		if _, err := svc.FeedCalendar(ctx, "trust_safety", feed.Token); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("a revoked feed: %v", err)
		}
		if _, err := svc.FeedCalendar(ctx, "trust_safety", other.Token); err != nil {
			t.Errorf("revoking one feed revoked another: %v", err)
		}
		list, err := svc.Feeds(ctx, lead, "trust_safety")
		if err != nil || len(list) != 2 || list[0].ID != other.ID || list[1].RevokedAt == nil || *list[1].RevokedBy != jonas {
			t.Errorf("feeds %+v %v", list, err)
		}
		// A feed reads with its maker's rights: when Jonas may no longer see
		// schedules, his feed stops.
		f.Reapply(t, func(c *desk.Config) {
			s := followTheSun()
			s.Layers[1].Participants = []string{amelia}
			desk.Set(c, oncall.SchedulesKey, []rota.Schedule{s})
			apptest.User(c, "jonas.weber").Role = "account_manager"
		})
		if _, err := svc.FeedCalendar(ctx, "trust_safety", other.Token); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("the feed of someone who may no longer see schedules: %v", err)
		}
	})
}
