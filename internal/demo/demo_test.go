package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
)

// testNow is a Wednesday afternoon in Europe.
var testNow = time.Date(2026, 3, 18, 14, 30, 0, 0, time.UTC)

func TestDeskValidates(t *testing.T) {
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []int64{1, 2, 42} {
		cfg := Desk(seed)
		if errs := schema.Validate(cfg); len(errs) > 0 {
			t.Fatalf("Desk(%d) is invalid: %v", seed, errs)
		}
		if len(cfg.Markets) != 10 || len(cfg.Teams) != 7 || len(cfg.Categories) < 20 ||
			len(cfg.Users) != 20 || len(cfg.Sellers) != 300 {
			t.Fatalf("Desk(%d): %d markets, %d teams, %d categories, %d users, %d sellers",
				seed, len(cfg.Markets), len(cfg.Teams), len(cfg.Categories), len(cfg.Users), len(cfg.Sellers))
		}
		// The document survives a YAML round trip (what `flare desk export` would write).
		b, err := desk.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := schema.Parse(b); err != nil {
			t.Fatalf("Desk(%d) does not parse back: %v", seed, err)
		}
	}
	if !reflect.DeepEqual(Desk(7), Desk(7)) {
		t.Fatal("Desk is not deterministic")
	}
	if reflect.DeepEqual(Desk(7).Sellers, Desk(8).Sellers) {
		t.Fatal("sellers do not depend on the seed")
	}
}

func TestDeskContents(t *testing.T) {
	cfg := Desk(1)
	roles := map[auth.Role]int{}
	for _, u := range cfg.Users {
		roles[u.Role]++
		if !strings.HasSuffix(u.Email, "@"+EmailDomain) {
			t.Errorf("user %s is not @%s", u.Email, EmailDomain)
		}
	}
	want := map[auth.Role]int{auth.RoleAdmin: 2, auth.RoleLead: 3, auth.RoleAgent: 10, auth.RoleAccountManager: 3, auth.RoleQA: 1, auth.RoleViewer: 1}
	if !reflect.DeepEqual(roles, want) {
		t.Errorf("roles = %v, want %v", roles, want)
	}
	tiers := map[int]int{}
	withAM, flags := 0, map[string]int{}
	for _, s := range cfg.Sellers {
		tiers[s.Tier]++
		if s.AccountManager != "" {
			withAM++
		}
		for _, f := range s.RiskFlags {
			flags[f]++
		}
	}
	if tiers[1] != 15 || tiers[2] != 45 || tiers[3] != 120 || tiers[4] != 120 {
		t.Errorf("tiers = %v, want 5/15/40/40%%", tiers)
	}
	if withAM < 200 {
		t.Errorf("only %d sellers have an account manager", withAM)
	}
	for _, f := range []string{"new_seller", "prior_suspension", "high_chargeback_rate", "vip"} {
		if flags[f] == 0 {
			t.Errorf("no seller has risk flag %s", f)
		}
	}
	zones := map[string]string{"GB": "Europe/London", "IE": "Europe/Dublin", "DE": "Europe/Berlin", "FR": "Europe/Paris",
		"IT": "Europe/Rome", "ES": "Europe/Madrid", "NL": "Europe/Amsterdam", "PL": "Europe/Warsaw", "BE": "Europe/Brussels",
		"US": "America/Los_Angeles"}
	for _, m := range cfg.Markets {
		if zones[m.Code] != m.Timezone {
			t.Errorf("market %s zone %s, want %s", m.Code, m.Timezone, zones[m.Code])
		}
	}
	// Every category's team has an agent who can own its cases.
	for _, c := range cfg.Categories {
		g := newGenerator(cfg, 1, testNow)
		if u, ok := g.ownerFor(c.Team, "GB", "en"); !ok || u.Role != auth.RoleAgent {
			t.Errorf("no agent owner for category %s (team %s)", c.Key, c.Team)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	cfg := Desk(1)
	a := Generate(cfg, 1, 500, testNow)
	b := Generate(Desk(1), 1, 500, testNow)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different specs")
	}
	c := Generate(cfg, 2, 500, testNow)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same specs")
	}
	if len(a) != 500 {
		t.Fatalf("got %d specs, want 500", len(a))
	}
}

// Generate also works on other configurations: the stored one (no users or
// sellers) and the desk package's example.
func TestGenerateOtherConfigs(t *testing.T) {
	stripped := *Desk(1)
	stripped.Users, stripped.Sellers = nil, nil
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	example, err := schema.Example()
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]*desk.Config{"stripped": &stripped, "example": example} {
		specs := Generate(cfg, 3, 400, testNow)
		if len(specs) != 400 {
			t.Fatalf("%s: %d specs", name, len(specs))
		}
		for _, s := range specs {
			cat, ok := cfg.Category(s.Input.Category)
			if !ok {
				t.Fatalf("%s: unknown category %s", name, s.Input.Category)
			}
			if _, errs := cat.ValidateFields(s.Input.Fields, false); len(errs) > 0 {
				t.Fatalf("%s: %s fields invalid: %v", name, cat.Key, errs)
			}
			if _, ok := cfg.Market(s.Input.Market); !ok {
				t.Fatalf("%s: unknown market %s", name, s.Input.Market)
			}
			finalStatus(t, s)
		}
	}
	if Generate(Desk(1), 1, 0, testNow) != nil {
		t.Error("0 cases should give none")
	}
}

func TestGenerateMixes(t *testing.T) {
	cfg := Desk(1)
	const n = 3000
	specs := Generate(cfg, 1, n, testNow)
	if len(specs) != n {
		t.Fatalf("got %d specs", len(specs))
	}
	channels, markets, categories, langs := map[cases.Channel]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var weekday, weekend, office, surge, highRisk, restricted, withSteps int
	start := testNow.Add(-Window)
	for i, s := range specs {
		if i > 0 && s.At.Before(specs[i-1].At) {
			t.Fatalf("specs are not in time order at %d", i)
		}
		if s.At.Before(start) || !s.At.Before(testNow) {
			t.Fatalf("spec %d at %s is outside the window", i, s.At)
		}
		if !stepsInOrder(s.Steps) {
			t.Fatalf("spec %d steps out of order", i)
		}
		for _, st := range s.Steps {
			if !st.At.After(s.At) || !st.At.Before(testNow) {
				t.Fatalf("spec %d step %s at %s outside (%s, now)", i, st.Kind, st.At, s.At)
			}
		}
		if len(s.Steps) > 0 {
			withSteps++
		}
		in := s.Input
		channels[in.Channel]++
		markets[in.Market]++
		categories[in.Category]++
		langs[in.Language]++
		m, _ := cfg.Market(in.Market)
		lt := s.At.In(m.Location())
		if lt.Weekday() == time.Saturday || lt.Weekday() == time.Sunday {
			weekend++
		} else {
			weekday++
		}
		if h := lt.Hour(); h >= 8 && h < 19 {
			office++
		}
		if strings.Contains(strings.Join(in.Tags, ","), "carrier_outage") {
			surge++
		}
		if in.HighRisk {
			highRisk++
		}
		if in.Sensitivity == "restricted" {
			restricted++
		}
		cat, ok := cfg.Category(in.Category)
		if !ok {
			t.Fatalf("unknown category %s", in.Category)
		}
		if _, errs := cat.ValidateFields(in.Fields, false); len(errs) > 0 {
			t.Fatalf("spec %d (%s) fields invalid: %v", i, in.Category, errs)
		}
		if strings.Contains(in.Title, "{") || strings.Contains(in.Description, "{") {
			t.Fatalf("unfilled template: %q / %q", in.Title, in.Description)
		}
	}
	t.Logf("channels %v", channels)
	t.Logf("markets %v", markets)
	t.Logf("languages %v", langs)
	t.Logf("weekday %d weekend %d office-hours %d surge %d high-risk %d restricted %d with steps %d",
		weekday, weekend, office, surge, highRisk, restricted, withSteps)

	want := map[cases.Channel]float64{"email": 35, "web_form": 25, "api": 10, "social": 8, "phone": 8,
		"internal": 6, "alert": 4, "leadership": 2, "external": 2}
	for ch, pct := range want {
		got := 100 * float64(channels[ch]) / n
		if got < pct*0.7-1 || got > pct*1.3+1 {
			t.Errorf("channel %s: %.1f%%, want about %.0f%%", ch, got, pct)
		}
	}
	if len(markets) != 10 {
		t.Errorf("markets used: %v", markets)
	}
	for _, big := range []string{"GB", "DE", "US"} {
		for _, small := range []string{"BE", "IE"} {
			if markets[big] <= 3*markets[small] {
				t.Errorf("market %s (%d) should be much bigger than %s (%d)", big, markets[big], small, markets[small])
			}
		}
	}
	if len(categories) < 20 {
		t.Errorf("only %d categories used", len(categories))
	}
	if weekday < 4*weekend {
		t.Errorf("weekday %d vs weekend %d: weekends should dip", weekday, weekend)
	}
	if office < n*6/10 {
		t.Errorf("only %d of %d cases in local office hours", office, n)
	}
	if surge < n*3/100 {
		t.Errorf("surge has only %d cases", surge)
	}
	for _, l := range []string{"en", "de", "fr", "it", "es", "nl", "pl"} {
		if langs[l] == 0 {
			t.Errorf("no case in language %s", l)
		}
	}
	if highRisk == 0 || restricted == 0 {
		t.Errorf("high-risk %d, restricted %d", highRisk, restricted)
	}
}

func TestLoad(t *testing.T) {
	dbtest.Each(t, app.Migrate, testLoad)
}

func testLoad(t *testing.T, d *db.DB) {
	ctx := context.Background()
	a, err := app.New(d, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	logins, err := Load(ctx, a, Options{Seed: 1, Cases: 300, Now: testNow, Mail: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded 300 cases in %s", time.Since(start))

	// The generator knew the priority and team the desk gave each case:
	// it scores and routes with the desk's own code.
	specs := Generate(Desk(1), 1, 300-intakeSeedCases, testNow) // the intake channels' cases count among the 300
	// (Cases that came through the intake channels are not the generator's.)
	rows, err := d.Query(ctx, `SELECT c.number, e.data FROM case_events e JOIN cases c ON c.id = e.case_id
		WHERE e.type = 'created' AND `+notMail+` ORDER BY c.number`)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; rows.Next(); i++ {
		var num int64
		var data string
		if err := rows.Scan(&num, &data); err != nil {
			t.Fatal(err)
		}
		var created struct{ Priority, Team string }
		if err := json.Unmarshal([]byte(data), &created); err != nil {
			t.Fatal(err)
		}
		if s := specs[i]; created.Priority != s.Priority || created.Team != s.Team {
			t.Errorf("ESC-%d (%s) was created %s in %s; the generator expected %s in %s", num, s.Input.Title,
				created.Priority, created.Team, s.Priority, s.Team)
		}
	}
	rows.Close()

	// One login per role, admin first with a token; each can sign in.
	if len(logins) != len(auth.Roles) {
		t.Fatalf("got %d logins, want %d", len(logins), len(auth.Roles))
	}
	for i, l := range logins {
		if l.Role != auth.Roles[i] {
			t.Errorf("login %d is %s, want %s", i, l.Role, auth.Roles[i])
		}
		u, err := auth.Authenticate(ctx, d, l.Email, Password)
		if err != nil {
			t.Errorf("login %s cannot authenticate: %v", l.Email, err)
		} else if u.Role != l.Role {
			t.Errorf("login %s has role %s, want %s", l.Email, u.Role, l.Role)
		}
	}
	if logins[0].Token == "" {
		t.Fatal("no API token for the admin")
	}
	act, err := auth.TokenActor(ctx, d, logins[0].Token)
	if err != nil || act.Email != logins[0].Email {
		t.Fatalf("token acts as %q, %v", act.Email, err)
	}

	// Every status, case numbers increasing with created_at, owners are people.
	statuses := map[string]int{}
	rows, err = d.Query(ctx, `SELECT status, COUNT(*) FROM cases GROUP BY status`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		statuses[s] = n
	}
	rows.Close()
	t.Logf("statuses %v", statuses)
	for _, s := range cases.Statuses {
		if statuses[string(s)] == 0 {
			t.Errorf("no %s case", s)
		}
	}
	// Cases waiting on another team are real handoffs, most of them answered.
	var handoffs, completed int
	if err := d.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) FROM handoffs`).Scan(&handoffs, &completed); err != nil {
		t.Fatal(err)
	}
	t.Logf("handoffs %d, completed %d", handoffs, completed)
	if handoffs == 0 || completed == 0 || completed == handoffs {
		t.Errorf("handoffs %d, completed %d: want answered ones and open ones", handoffs, completed)
	}
	var total int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases c WHERE `+notMail).Scan(&total); err != nil || total != 300-intakeSeedCases {
		t.Fatalf("%d generated cases (%v), want %d", total, err, 300-intakeSeedCases)
	}
	// The demo mails (mail.go): two cases by mail, one with a thread and a
	// file each, and an ignored out-of-office reply.
	var mailCases, files, ignored, replies int
	if err := d.QueryRow(ctx, `SELECT (SELECT COUNT(DISTINCT case_id) FROM mail_messages WHERE direction = 'in'),
		(SELECT COUNT(*) FROM attachments), (SELECT COUNT(*) FROM mail_messages WHERE state = 'ignored'),
		(SELECT COUNT(*) FROM case_comments WHERE from_email <> '')`).Scan(&mailCases, &files, &ignored, &replies); err != nil ||
		mailCases != 2 || files != 2 || ignored != 1 || replies != 1 {
		t.Errorf("demo mail: %d cases, %d files, %d ignored, %d requester replies (%v); want 2, 2, 1, 1", mailCases, files, ignored, replies, err)
	}
	rows, err = d.Query(ctx, `SELECT number, created_at FROM cases ORDER BY number`)
	if err != nil {
		t.Fatal(err)
	}
	var prev time.Time
	for rows.Next() {
		var num int64
		var at db.Time
		if err := rows.Scan(&num, &at); err != nil {
			t.Fatal(err)
		}
		if at.Time.Before(prev) {
			t.Errorf("case %d created %s before the previous case (%s)", num, at.Time, prev)
		}
		prev = at.Time
	}
	rows.Close()
	var people, system int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM case_events WHERE actor_id IS NOT NULL`).Scan(&people); err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM case_events WHERE actor_id IS NULL
		AND type NOT IN ('created', 'routed', 'assigned', 'unassigned') AND type NOT LIKE 'sla_%'
		AND type NOT LIKE 'escalation_%' AND NOT (type = 'update' AND CAST(data AS TEXT) LIKE '%"escalation_level"%')
		AND case_id NOT IN (SELECT case_id FROM intake_receipts)`).Scan(&system); err != nil { // the intake channels' senders are not people
		t.Fatal(err)
	}
	if people == 0 || system != 0 {
		t.Errorf("events by people %d, by the system after creation %d", people, system)
	}
	// The SLA engine ran on every change: the demo's history has breaches.
	var breaches int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM sla_events WHERE kind = 'breach'`).Scan(&breaches); err != nil || breaches == 0 {
		t.Errorf("SLA breaches recorded while loading: %d %v", breaches, err)
	}
	var reopened int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE reopen_count > 0`).Scan(&reopened); err != nil {
		t.Fatal(err)
	}
	t.Logf("reopened cases: %d", reopened)

	// Loading again is harmless: the desk is unchanged, more cases follow.
	if _, err := Load(ctx, a, Options{Seed: 1, Cases: 10, Now: testNow.Add(time.Hour)}); err != nil {
		t.Fatalf("second load: %v", err)
	}
}

// Two loads with the same seed and end instant give the same desk: the
// same cases under the same numbers, with the same status, owner, team and
// priority, and the same timelines.
func TestLoadDeterministic(t *testing.T) {
	ctx := context.Background()
	desks := make([][]string, 2)
	for i := range desks {
		d := dbtest.SQLite(t, app.Migrate)
		a, err := app.New(d, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(ctx, a, Options{Seed: 7, Cases: 400, Now: testNow}); err != nil {
			t.Fatal(err)
		}
		rows, err := d.Query(ctx, `SELECT c.number, c.title, c.status, COALESCE(u.email, ''), c.team, c.priority, c.priority_reasons,
			(SELECT COUNT(*) FROM case_events e WHERE e.case_id = c.id), (SELECT COUNT(*) FROM handoffs h WHERE h.case_id = c.id)
			FROM cases c LEFT JOIN users u ON u.id = c.owner_id WHERE `+notMail+` ORDER BY c.number`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var num int64
			var title, status, owner, team, prio, reasons string
			var events, handoffs int
			if err := rows.Scan(&num, &title, &status, &owner, &team, &prio, &reasons, &events, &handoffs); err != nil {
				t.Fatal(err)
			}
			desks[i] = append(desks[i], fmt.Sprintf("ESC-%d %q %s %s %s %s %s events=%d handoffs=%d", num, title, status, owner, team, prio, reasons, events, handoffs))
		}
		rows.Close()
	}
	if len(desks[0]) != 400-intakeSeedCases { // the intake channels' cases count among the 400
		t.Fatalf("loaded %d generated cases, want %d", len(desks[0]), 400-intakeSeedCases)
	}
	for i := range desks[0] {
		if desks[0][i] != desks[1][i] {
			t.Fatalf("the two loads differ:\n%s\n%s", desks[0][i], desks[1][i])
		}
	}
}

// The routing explanation of every demo case agrees with the priority and
// reasons the case holds (they once disagreed: explain counted repeat
// contacts and SLA pressure as of now, the case as of its last update).
func TestDemoExplanationsAgreeWithCases(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, err := app.New(d, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		logins, err := Load(ctx, a, Options{Seed: 1, Cases: 300, Now: testNow, Mail: true})
		if err != nil {
			t.Fatal(err)
		}
		admin, err := auth.TokenActor(ctx, d, logins[0].Token)
		if err != nil {
			t.Fatal(err)
		}
		factors := map[string]int{}
		for n := 1; n <= 300; n++ {
			ref := cases.FormatNumber(int64(n))
			c, err := a.Cases.Get(ctx, admin, ref)
			if err != nil {
				t.Fatal(err)
			}
			x, err := a.Cases.ExplainCase(ctx, admin, ref)
			if err != nil {
				t.Fatal(err)
			}
			if x.Priority != c.Priority || !reflect.DeepEqual(x.Reasons, c.PriorityReasons) || x.DeskChanged {
				t.Fatalf("%s: explain says %s %+v, the case holds %s %+v", ref, x.Priority, x.Reasons, c.Priority, c.PriorityReasons)
			}
			for _, r := range c.PriorityReasons {
				factors[r.Factor]++
			}
		}
		t.Logf("factors in the demo's priority reasons: %v", factors)
		for _, f := range []string{"repeat_contacts", "sla_pressure", "routing_rule", "high_risk"} {
			if factors[f] == 0 {
				t.Errorf("no demo case has a %s reason; the check above does not cover it", f)
			}
		}
	})
}

// BenchmarkLoad loads the full demo desk (DefaultCases cases) into a fresh
// SQLite store: go test -run '^$' -bench Load ./internal/demo/
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		d := dbtest.SQLite(b, app.Migrate)
		a, err := app.New(d, app.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Load(ctx, a, Options{Seed: 1, Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(DefaultCases*b.N)/b.Elapsed().Seconds(), "cases/s")
}

// finalStatus plays a spec's steps on the state machine.
func finalStatus(t testing.TB, s CaseSpec) cases.Status {
	st := cases.StatusNew
	for _, step := range s.Steps {
		var to cases.Status
		switch step.Kind {
		case StepAssign, StepEscalate:
			if st == cases.StatusNew {
				st = cases.StatusOpen
			}
			continue
		case StepComment, StepNote:
			continue
		case StepPendingRequester:
			to = cases.StatusPendingRequester
		case StepPendingInternal:
			to = cases.StatusPendingInternal
		case StepOpen, StepReopen, StepHandoffDone: // the last handoff done brings the case back
			to = cases.StatusOpen
		case StepResolve:
			to = cases.StatusResolved
		case StepClose:
			to = cases.StatusClosed
		default:
			t.Fatalf("unknown step %s", step.Kind)
		}
		if err := cases.CheckTransition(st, to); err != nil {
			t.Fatalf("%s: %v", s.Input.Title, err)
		}
		st = to
	}
	return st
}

func TestGenerateStatuses(t *testing.T) {
	cfg := Desk(1)
	for _, n := range []int{300, 3000} {
		for seed := int64(1); seed <= 5; seed++ {
			specs := Generate(cfg, seed, n, testNow)
			got := map[cases.Status]int{}
			ops := 0
			for _, s := range specs {
				got[finalStatus(t, s)]++
				ops += 1 + len(s.Steps)
			}
			if seed == 1 {
				t.Logf("n=%d: statuses %v, %.2f operations per case", n, got, float64(ops)/float64(n))
			}
			for _, s := range cases.Statuses {
				// A 300-case desk has only a handful of cases waiting on
				// someone; which kind of wait is left to the seed.
				pending := s == cases.StatusPendingRequester || s == cases.StatusPendingInternal
				if got[s] == 0 && (n >= 3000 || !pending) {
					t.Errorf("n=%d seed %d: no %s case: %v", n, seed, s, got)
				}
			}
			if got[cases.StatusPendingRequester]+got[cases.StatusPendingInternal] == 0 {
				t.Errorf("n=%d seed %d: no case waits on anyone: %v", n, seed, got)
			}
		}
	}
}

// notMail leaves out the demo's cases that came by mail (mail.go), which
// the generator does not know.
const notMail = "NOT EXISTS (SELECT 1 FROM intake_receipts r WHERE r.case_id = c.id)"
