// Package history fills a store with a realistic case history for the
// benchmarks: a year (by default) of cases over the desk document's
// markets, teams, categories and sellers, most of them resolved or closed,
// with first responses, SLA clocks met and breached (and their breach
// events), handoffs, escalations and repeat-contact links.
//
// It writes rows directly with multi-row INSERTs in large transactions —
// a million cases in a few minutes — rather than through the case service,
// which would take hours. The rows are the shape internal/cases keeps, so
// every reader (reports, packs, queues) sees ordinary cases. The same seed
// and options always give the same rows.
package history

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// BenchEnd is where the report benchmarks' histories end (bench/pack and
// bench/reports_dashboard), so that one kept store serves both.
var BenchEnd = time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)

// Recipe names a fill of the desk demo.Desk(1), for benchstore.OpenFilled.
func Recipe(cases, days int, seed int64, end time.Time) string {
	return fmt.Sprintf("history v1 demo.Desk(1) cases=%d days=%d seed=%d end=%s", cases, days, seed, end.UTC().Format(time.RFC3339))
}

// Options sizes the history.
type Options struct {
	Cases int       // how many cases
	End   time.Time // the history ends here (the benchmark's "now")
	Days  int       // how far back it starts; 0 means 365
	Seed  int64
	// Progress, when set, is called after each transaction with the cases
	// written so far.
	Progress func(done int)
	// Timeline also writes what the SLA clocks are computed from (the
	// what-if's replay reads it): each case's created and status entries
	// and its first public reply, at the instants of its row. It draws no
	// random numbers, so the cases are the same with or without it.
	Timeline bool
}

// Stats counts what Fill wrote.
type Stats struct {
	Cases, Resolved, Open, Breaches, Handoffs, Escalations, Links int
	Took                                                          time.Duration
}

// casesPerTx bounds a transaction; rowsPerInsert a statement (SQLite
// allows 32766 parameters).
const (
	casesPerTx    = 50000
	rowsPerInsert = 400
)

// channelWeight is the share of intake by channel.
var channelWeight = []struct {
	ch string
	w  float64
}{{"email", 34}, {"web_form", 30}, {"api", 10}, {"phone", 8}, {"social", 5}, {"alert", 4}, {"internal", 4},
	{"leadership", 3}, {"external", 2}}

// priorityWeight and the lognormal medians of first response and
// resolution by priority (hours).
var priorities = []struct {
	p               string
	w, first, resol float64
}{{"P1", 3, 0.3, 6}, {"P2", 15, 1.2, 18}, {"P3", 50, 3.5, 40}, {"P4", 32, 8, 70}}

// hourWeight is the intake by local hour of day: business hours dominate.
var hourWeight = [24]float64{1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 5, 7, 8, 8, 7, 7.5, 8, 7.5, 7, 6, 4.5, 3.5, 3, 2.5, 2, 1.5}

// handoffWait is the median wait (hours) of a handoff by receiving team;
// unknown teams wait 8 h.
var handoffWait = map[string]float64{"logistics": 6, "payments": 10, "governance": 14, "trust_safety": 2}

type seller struct {
	id     string
	market string
}

type agent struct {
	id   int64
	team string
}

// Fill writes o.Cases cases into d, created over the o.Days before o.End,
// over cfg's markets, categories (and their teams), the sellers and agents
// already stored (apply cfg first). Case ids and numbers continue after the
// ones stored.
func Fill(ctx context.Context, d *db.DB, cfg *desk.Config, o Options) (Stats, error) {
	start := time.Now()
	if o.Days <= 0 {
		o.Days = 365
	}
	if len(cfg.Markets) == 0 || len(cfg.Categories) == 0 {
		return Stats{}, fmt.Errorf("history: the desk document has no markets or categories")
	}
	sellers, agents, err := load(ctx, d)
	if err != nil {
		return Stats{}, err
	}
	var firstID, firstNumber int64
	if err := d.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0), COALESCE(MAX(number), 0) FROM cases`).Scan(&firstID, &firstNumber); err != nil {
		return Stats{}, fmt.Errorf("history: %w", err)
	}
	var firstHandoff, firstEsc int64
	if err := d.QueryRow(ctx, `SELECT (SELECT COALESCE(MAX(id), 0) FROM handoffs), (SELECT COALESCE(MAX(id), 0) FROM escalations)`).Scan(&firstHandoff, &firstEsc); err != nil {
		return Stats{}, fmt.Errorf("history: %w", err)
	}
	g := &gen{r: rand.New(rand.NewPCG(uint64(o.Seed), 0x6a09e667f3bcc909)), cfg: cfg, end: o.End.UTC(),
		id: firstID, number: firstNumber, handoffID: firstHandoff, escID: firstEsc,
		sellers: map[string][]seller{}, agents: map[string][]int64{}, timeline: o.Timeline}
	for _, s := range sellers {
		g.sellers[s.market] = append(g.sellers[s.market], s)
	}
	for _, a := range agents {
		g.agents[a.team] = append(g.agents[a.team], a.id)
	}
	g.marketW = make([]float64, len(cfg.Markets))
	for i := range cfg.Markets {
		// A few big markets and a long tail, like the demo's traffic.
		g.marketW[i] = 1 / math.Pow(float64(i+1), 0.8)
		g.locs = append(g.locs, cfg.Markets[i].Location())
	}
	g.catW = make([]float64, len(cfg.Categories))
	for i := range cfg.Categories {
		g.catW[i] = 1 / math.Pow(float64(i%11+1), 0.9)
	}

	// Cases per day: a growing marketplace with quieter weekends.
	dayStart := g.end.Truncate(24*time.Hour).AddDate(0, 0, -o.Days)
	dayW := make([]float64, o.Days)
	var total float64
	for i := range dayW {
		w := 0.8 + 0.4*float64(i)/float64(o.Days)
		if wd := dayStart.AddDate(0, 0, i).Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.55
		}
		dayW[i] = w
		total += w
	}
	counts := make([]int, o.Days)
	left, acc := o.Cases, 0.0
	for i := range counts {
		acc += dayW[i] / total * float64(o.Cases)
		counts[i] = min(int(math.Round(acc))-(o.Cases-left), left)
		left -= counts[i]
	}
	counts[len(counts)-1] += left

	var st Stats
	b := &batch{}
	flush := func() error {
		err := d.InTx(ctx, func(tx *db.Tx) error { return b.write(ctx, tx) })
		b.reset()
		if err == nil && o.Progress != nil {
			o.Progress(st.Cases)
		}
		return err
	}
	for day, n := range counts {
		at := make([]time.Time, n)
		mk := make([]int, n)
		for i := range at {
			mk[i] = g.pick(g.marketW)
			local := dayStart.AddDate(0, 0, day).In(g.locs[mk[i]])
			h := g.pick(hourWeight[:])
			at[i] = time.Date(local.Year(), local.Month(), local.Day(), h, g.r.IntN(60), g.r.IntN(60), 0, local.Location()).UTC()
			if at[i].After(g.end) {
				at[i] = g.end.Add(-time.Duration(g.r.IntN(3600)) * time.Second)
			}
		}
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return at[a].Compare(at[b]) })
		for _, i := range idx {
			g.one(b, &st, at[i], mk[i])
			if len(b.cases) >= casesPerTx {
				if err := flush(); err != nil {
					return st, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	if err := g.bumpCounters(ctx, d); err != nil {
		return st, err
	}
	st.Took = time.Since(start)
	return st, nil
}

func load(ctx context.Context, d *db.DB) ([]seller, []agent, error) {
	var ss []seller
	rows, err := d.Query(ctx, `SELECT external_id, market FROM sellers ORDER BY id`)
	if err != nil {
		return nil, nil, fmt.Errorf("history: sellers: %w", err)
	}
	for rows.Next() {
		var s seller
		if err := rows.Scan(&s.id, &s.market); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("history: sellers: %w", err)
		}
		ss = append(ss, s)
	}
	rows.Close()
	var as []agent
	rows, err = d.Query(ctx, `SELECT u.id, tm.team FROM users u JOIN team_members tm ON tm.user_id = u.id
		WHERE u.role IN ('agent', 'lead') ORDER BY tm.team, u.id`)
	if err != nil {
		return nil, nil, fmt.Errorf("history: agents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a agent
		if err := rows.Scan(&a.id, &a.team); err != nil {
			return nil, nil, fmt.Errorf("history: agents: %w", err)
		}
		as = append(as, a)
	}
	return ss, as, rows.Err()
}

type gen struct {
	r                *rand.Rand
	cfg              *desk.Config
	end              time.Time
	id, number       int64
	handoffID, escID int64
	sellers          map[string][]seller
	agents           map[string][]int64
	marketW, catW    []float64
	locs             []*time.Location
	recentBySeller   map[string]int64 // seller|category → the latest case id, for repeat links
	recentAt         map[string]time.Time
	teamKeys         []string
	timeline         bool // Options.Timeline
}

func (g *gen) pick(w []float64) int {
	var t float64
	for _, x := range w {
		t += x
	}
	x := g.r.Float64() * t
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// lognormal returns a duration with the given median (hours) and spread.
func (g *gen) lognormal(medianH, sigma float64) time.Duration {
	return time.Duration(medianH * math.Exp(sigma*g.r.NormFloat64()) * float64(time.Hour))
}

// clock is an SLA clock as internal/cases keeps it on the case row.
type clock struct {
	Metric      string     `json:"metric"`
	State       string     `json:"state"`
	Policy      string     `json:"policy"`
	Business    bool       `json:"business"`
	TargetS     int64      `json:"target_s"`
	ElapsedS    int64      `json:"elapsed_s"`
	StartedAt   time.Time  `json:"started_at"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	MetAt       *time.Time `json:"met_at,omitempty"`
	EvaluatedAt time.Time  `json:"evaluated_at"`
}

// policy mirrors the demo desk's SLA policies (calendar time: the history
// does not replay business hours).
func policy(category, priority, channel string) (name string, first, resol time.Duration) {
	switch {
	case strings.HasPrefix(category, "safety/") || strings.HasPrefix(category, "trust_safety/"):
		return "Safety and integrity", 30 * time.Minute, 24 * time.Hour
	case priority == "P1":
		return "P1", time.Hour, 24 * time.Hour
	case channel == "leadership" || channel == "external":
		return "Leadership and regulators", 2 * time.Hour, 72 * time.Hour
	}
	return "Standard", 8 * time.Hour, 5 * 24 * time.Hour
}

func (g *gen) one(b *batch, st *Stats, created time.Time, mi int) {
	g.id++
	g.number++
	id := g.id
	m := g.cfg.Markets[mi]
	cat := g.cfg.Categories[g.pick(g.catW)]
	chw := make([]float64, len(channelWeight))
	for i, c := range channelWeight {
		chw[i] = c.w
	}
	ch := channelWeight[g.pick(chw)].ch
	pw := make([]float64, len(priorities))
	for i, p := range priorities {
		pw[i] = p.w
	}
	pr := priorities[g.pick(pw)]
	team := cat.Team
	var sellerID any
	if ss := g.sellers[m.Code]; len(ss) > 0 && g.r.Float64() < 0.85 {
		sellerID = ss[g.r.IntN(len(ss))].id
	}
	age := g.end.Sub(created)
	var owner any
	if as := g.agents[team]; len(as) > 0 && g.r.Float64() < 0.95 {
		owner = as[g.r.IntN(len(as))]
	}
	var firstAt, resolvedAt, closedAt *time.Time
	polName, firstT, resolT := policy(cat.Key, pr.p, ch)
	// Most answers come well within target; the lognormal tail breaches.
	fr := g.lognormal(min(pr.first, firstT.Hours()/3), 1.0)
	if fr < age && g.r.Float64() < 0.97 {
		t := created.Add(fr)
		firstAt = &t
	}
	resol := g.lognormal(min(pr.resol, resolT.Hours()/3), 1.1)
	if firstAt != nil && resol < fr {
		resol = fr + g.lognormal(0.5, 0.5)
	}
	status := "new"
	reopens := 0
	if firstAt != nil {
		status = []string{"open", "open", "pending_requester", "pending_internal"}[g.r.IntN(4)]
	}
	if firstAt != nil && resol < age && g.r.Float64() < 0.995 {
		t := created.Add(resol)
		resolvedAt = &t
		status = "resolved"
		if g.r.Float64() < 0.05 {
			reopens = 1
		}
		if c := t.Add(72 * time.Hour); c.Before(g.end) {
			closedAt = &c
			status = "closed"
		}
		st.Resolved++
	} else {
		st.Open++
	}
	clocks := []clock{g.clock("first_response", polName, firstT, created, firstAt), g.clock("resolution", polName, resolT, created, resolvedAt)}
	for _, c := range clocks {
		if c.State == "breached" {
			st.Breaches++
			due := created.Add(time.Duration(c.TargetS) * time.Second)
			b.breaches = append(b.breaches, []any{id, c.Metric, "breach", db.T(created), db.T(due), db.T(due), team, m.Code, polName})
		}
	}
	sla, _ := json.Marshal(clocks)
	lang := ""
	if len(m.Languages) > 0 {
		lang = m.Languages[0]
	}
	updated := created
	for _, t := range []*time.Time{firstAt, resolvedAt, closedAt} {
		if t != nil {
			updated = *t
		}
	}
	level := 1
	// Escalations: the urgent and the breached more often.
	escP := map[string]float64{"P1": 0.35, "P2": 0.12, "P3": 0.03, "P4": 0.01}[pr.p]
	if clocks[0].State == "breached" {
		escP += 0.1
	}
	if g.r.Float64() < escP {
		level = 2
		if g.r.Float64() < 0.25 {
			level = 3
		}
		g.escalation(b, st, id, created, level, resolvedAt)
	}
	// Handoffs: a fifth of cases ask another team.
	if g.r.Float64() < 0.2 {
		g.handoff(b, st, id, team, created, resolvedAt)
	}
	var resolution any = ""
	if resolvedAt != nil {
		resolution = g.cfg.Resolutions[g.r.IntN(len(g.cfg.Resolutions))]
	}
	if sellerID != nil {
		key := sellerID.(string) + "|" + cat.Key
		if g.recentBySeller == nil {
			g.recentBySeller, g.recentAt = map[string]int64{}, map[string]time.Time{}
		}
		if prev, ok := g.recentBySeller[key]; ok && created.Sub(g.recentAt[key]) < 7*24*time.Hour && g.r.Float64() < 0.05 {
			b.links = append(b.links, []any{id, prev, "repeat", "seller_category", db.T(created)})
			st.Links++
		}
		g.recentBySeller[key], g.recentAt[key] = id, created
	}
	// The queue's order (internal/cases): the earliest due of a running or
	// breached clock of an active case; far in the future otherwise.
	var dueSort any = db.T(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC))
	if resolvedAt == nil {
		for _, c := range clocks {
			if c.State != "met" {
				dueSort = db.T(*c.DueAt)
				break
			}
		}
	}
	if g.timeline {
		timeline(b, id, owner, status, reopens, created, firstAt, resolvedAt, closedAt)
	}
	b.cases = append(b.cases, []any{id, g.number, cat.Name + " — case " + fmt.Sprint(g.number), cat.Key, ch, m.Code, lang, sellerID,
		pr.p, status, owner, team, level, resolution, reopens, db.T(created), db.T(updated), tp(firstAt), tp(resolvedAt), tp(closedAt), string(sla), dueSort})
	st.Cases++
}

// timeline writes the case's created and status entries and its first
// public reply, consistent with its row: answered (open) at firstAt, then
// its final waiting status, or resolved (once before, if reopened) and
// closed. In order, so their ids are in time order per case.
func timeline(b *batch, id int64, owner any, status string, reopens int, created time.Time, firstAt, resolvedAt, closedAt *time.Time) {
	b.events = append(b.events, []any{id, "created", "{}", db.T(created)})
	if firstAt == nil {
		return
	}
	from := "new"
	move := func(to string, at time.Time) {
		b.events = append(b.events, []any{id, "status", `{"from":"` + from + `","to":"` + to + `"}`, db.T(at)})
		from = to
	}
	b.comments = append(b.comments, []any{id, owner, "Thank you, we are on it.", false, db.T(*firstAt)})
	move("open", *firstAt)
	if resolvedAt == nil {
		if status != "open" {
			move(status, firstAt.Add(time.Minute))
		}
		return
	}
	if reopens > 0 {
		mid := firstAt.Add(resolvedAt.Sub(*firstAt) / 2)
		move("resolved", mid)
		move("open", mid.Add(resolvedAt.Sub(mid)/2))
	}
	move("resolved", *resolvedAt)
	if closedAt != nil {
		move("closed", *closedAt)
	}
}

func tp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return db.T(*t)
}

func (g *gen) clock(metric, pol string, target time.Duration, start time.Time, done *time.Time) clock {
	due := start.Add(target)
	c := clock{Metric: metric, Policy: pol, TargetS: int64(target / time.Second), StartedAt: start, DueAt: &due}
	switch {
	case done != nil:
		c.ElapsedS, c.MetAt, c.EvaluatedAt = int64(done.Sub(start)/time.Second), done, *done
		c.State = "met"
		if done.After(due) {
			c.State = "breached"
		}
	default:
		c.ElapsedS, c.EvaluatedAt = int64(g.end.Sub(start)/time.Second), g.end
		c.State = "running"
		if g.end.After(due) {
			c.State = "breached"
		}
	}
	return c
}

func (g *gen) escalation(b *batch, st *Stats, caseID int64, created time.Time, level int, resolved *time.Time) {
	g.escID++
	st.Escalations++
	at := created.Add(g.lognormal(1.5, 0.8))
	ack := at.Add(g.lognormal(0.4*float64(level), 0.7))
	state := "closed"
	var acked, closed any = db.T(ack), nil
	switch {
	case ack.After(g.end):
		state, acked = "open", nil
	case resolved == nil:
		state = "acknowledged"
	default:
		c := *resolved
		if c.Before(ack) {
			c = ack
		}
		closed = db.T(c)
	}
	if at.After(g.end) {
		at = g.end
	}
	cause := []string{"manual", "sla_warning", "sla_breach", "p1"}[g.r.IntN(4)]
	b.escalations = append(b.escalations, []any{g.escID, caseID, cause, state, level, 1, 0, 0, db.T(at), acked, closed, db.T(at), db.T(at)})
}

func (g *gen) handoff(b *batch, st *Stats, caseID int64, from string, created time.Time, resolved *time.Time) {
	if g.teamKeys == nil {
		for _, t := range g.cfg.Teams {
			g.teamKeys = append(g.teamKeys, t.Key)
		}
	}
	if len(g.teamKeys) < 2 {
		return
	}
	to := g.teamKeys[g.r.IntN(len(g.teamKeys))]
	for to == from {
		to = g.teamKeys[g.r.IntN(len(g.teamKeys))]
	}
	g.handoffID++
	st.Handoffs++
	at := created.Add(g.lognormal(2, 0.8))
	if at.After(g.end) {
		at = g.end.Add(-time.Minute)
	}
	median, ok := handoffWait[to]
	if !ok {
		median = 8
	}
	answer := at.Add(g.lognormal(median, 0.9))
	due := at.Add(8 * time.Hour)
	status := "completed"
	var accepted, answered, closed any = db.T(at.Add(answer.Sub(at) / 3)), db.T(answer), db.T(answer)
	if answer.After(g.end) || (resolved == nil && g.r.Float64() < 0.3) {
		status, answered, closed = "open", nil, nil
		if answer.After(g.end) {
			accepted = nil
		}
	}
	b.handoffs = append(b.handoffs, []any{g.handoffID, caseID, from, to, "Please check this case.", db.T(due), status == "open",
		status, accepted, answered, closed, db.T(at), db.T(at)})
}

// bumpCounters moves the case number counter (and PostgreSQL's identity
// sequences) past the rows written, so the next case created live follows.
func (g *gen) bumpCounters(ctx context.Context, d *db.DB) error {
	if d.Dialect() == db.SQLite {
		_, err := d.Exec(ctx, `UPDATE counters SET value = ? WHERE name = 'case_number'`, g.number)
		return err
	}
	for _, q := range []string{
		fmt.Sprintf(`SELECT setval('case_number_seq', %d)`, max(g.number, 1)),
		`SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT GREATEST(MAX(id), 1) FROM cases))`,
		`SELECT setval(pg_get_serial_sequence('handoffs', 'id'), (SELECT GREATEST(MAX(id), 1) FROM handoffs))`,
		`SELECT setval(pg_get_serial_sequence('escalations', 'id'), (SELECT GREATEST(MAX(id), 1) FROM escalations))`,
		`SELECT setval(pg_get_serial_sequence('sla_events', 'id'), (SELECT GREATEST(COALESCE(MAX(id), 0), 1) FROM sla_events))`,
		`SELECT setval(pg_get_serial_sequence('case_links', 'id'), (SELECT GREATEST(COALESCE(MAX(id), 0), 1) FROM case_links))`,
	} {
		if _, err := d.Exec(ctx, q); err != nil {
			return fmt.Errorf("history: counters: %w", err)
		}
	}
	return nil
}

// batch holds the rows of one transaction.
type batch struct {
	cases, breaches, handoffs, escalations, links, events, comments [][]any
}

func (b *batch) reset() { *b = batch{} }

var tables = []struct {
	name, cols string
	rows       func(*batch) [][]any
}{
	{"cases", "id, number, title, category, channel, market, language, seller_id, priority, status, owner_id, team, escalation_level, resolution, reopen_count, created_at, updated_at, first_response_at, resolved_at, closed_at, sla, due_sort",
		func(b *batch) [][]any { return b.cases }},
	{"sla_events", "case_id, metric, kind, cycle_start, due_at, fired_at, team, market, policy",
		func(b *batch) [][]any { return b.breaches }},
	{"handoffs", "id, case_id, from_team, to_team, request, due_at, hold, status, accepted_at, answered_at, closed_at, created_at, updated_at",
		func(b *batch) [][]any { return b.handoffs }},
	{"escalations", "id, case_id, cause, state, level, from_level, step, round, step_started_at, acked_at, closed_at, created_at, updated_at",
		func(b *batch) [][]any { return b.escalations }},
	{"case_links", "case_id, other_id, kind, reason, created_at",
		func(b *batch) [][]any { return b.links }},
	{"case_events", "case_id, type, data, created_at",
		func(b *batch) [][]any { return b.events }},
	{"case_comments", "case_id, author_id, body, internal, created_at",
		func(b *batch) [][]any { return b.comments }},
}

func (b *batch) write(ctx context.Context, tx *db.Tx) error {
	for _, t := range tables {
		rows := t.rows(b)
		for len(rows) > 0 {
			n := min(len(rows), rowsPerInsert)
			ncol := len(rows[0])
			one := "(" + strings.TrimSuffix(strings.Repeat("?, ", ncol), ", ") + ")"
			q := "INSERT INTO " + t.name + " (" + t.cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
			args := make([]any, 0, n*ncol)
			for _, r := range rows[:n] {
				args = append(args, r...)
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("history: insert %s: %w", t.name, err)
			}
			rows = rows[n:]
		}
	}
	return nil
}
