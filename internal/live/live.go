// Package live feeds the live screens: a stream of short notes ("case
// ESC-1042 changed", "incident INC-7 changed", "Ana is viewing") that a
// page answers by re-fetching the part that changed. Notes come from the
// event bus's after-commit feed (this node's writes) and from tailing the
// events table (every node's writes, so two app instances on one
// PostgreSQL database hear each other); a subscriber hears only of cases
// it may see. Presence is a row per open stream in live_presence, touched
// by the stream's heartbeat.
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
)

// Options tune the hub; zero values take the defaults.
type Options struct {
	Poll      time.Duration // how often the events table is tailed (default 250 ms)
	Heartbeat time.Duration // a stream's keep-alive and presence touch (default 10 s)
	Presence  time.Duration // how often a case's viewers are re-read (default 2 s)
	Gap       time.Duration // how long a hole in the events' seqs is waited for (default 5 s)
}

func (o *Options) defaults() {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.Presence <= 0 {
		o.Presence = 2 * time.Second
	}
	if o.Gap <= 0 {
		o.Gap = 5 * time.Second
	}
}

// Hub fans notes out to the open streams of this node.
type Hub struct {
	db    *db.DB
	bus   *events.Bus
	cases *cases.Service
	clock clock.Clock
	log   *slog.Logger
	opt   Options

	mu   sync.Mutex
	subs map[*Sub]struct{}

	stop     chan struct{} // closed by Shutdown: streams end
	stopOnce sync.Once
	tailing  chan struct{} // closed once Run knows where the table's tail starts

	cmu    sync.Mutex
	byNote map[string]*cases.Case // the case as read for an event, shared by the streams that check it
}

// New returns a hub; Run tails the events table for other nodes' writes.
func New(d *db.DB, bus *events.Bus, cs *cases.Service, c clock.Clock, log *slog.Logger, opt Options) *Hub {
	opt.defaults()
	return &Hub{db: d, bus: bus, cases: cs, clock: c, log: log, opt: opt, subs: map[*Sub]struct{}{}, stop: make(chan struct{}), tailing: make(chan struct{}),
		byNote: map[string]*cases.Case{}}
}

// Shutdown ends every open stream (the HTTP server's graceful shutdown
// waits for open connections, and a stream never ends by itself).
func (h *Hub) Shutdown() { h.stopOnce.Do(func() { close(h.stop) }) }

// Kinds of note.
const (
	KindCase     = "case"     // a case changed: re-fetch lists, counts, the case's page
	KindIncident = "incident" // an incident changed: the banner, incident pages
	KindPresence = "presence" // who else has this case open
	KindReload   = "reload"   // notes were lost: re-fetch everything shown
)

// Note is one message on a stream.
type Note struct {
	Kind     string   `json:"kind"`
	Type     string   `json:"type,omitempty"`     // the event's type
	Case     string   `json:"case,omitempty"`     // case number
	Incident string   `json:"incident,omitempty"` // incident number
	Viewers  []Viewer `json:"viewers,omitempty"`  // presence: the others viewing
	id       string   // the event's id, to drop the copy that arrives both ways
	caseID   int64
}

// Viewer is someone else who has the case open.
type Viewer struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
}

// publicTypes are what an account manager (public side only) hears of.
var publicTypes = []string{string(events.CaseCreated), string(events.CaseReplied), string(events.CaseStatusChanged), string(events.CaseMerged)}

// noteOf turns an event into a note; false: nothing a screen shows.
func noteOf(id, typ string, c *events.Case, incident string) (Note, bool) {
	switch {
	case c != nil && c.Number != "":
		return Note{Kind: KindCase, Type: typ, Case: c.Number, id: id, caseID: c.ID}, true
	case incident != "":
		return Note{Kind: KindIncident, Type: typ, Incident: incident, id: id}, true
	}
	return Note{}, false
}

func feedNote(e events.Event) (Note, bool) {
	inc := ""
	if p, ok := e.Data.(*events.Incident); ok {
		inc = p.Number
	}
	return noteOf(e.ID, string(e.Type), e.Case, inc)
}

// Sub is one open stream.
type Sub struct {
	hub    *Hub
	actor  auth.Actor
	conn   string
	caseID int64 // the case it is viewing (0: none)
	remote chan Note
	poke   chan struct{} // presence changed on this node
	lagged atomic.Bool   // remote notes were dropped
	seen   []string      // recent event ids, to deduplicate feed and tail
}

// Subscribe opens a stream for a; viewing is the case it has open (nil:
// none), announced to the case's other viewers. Close it when done.
func (h *Hub) Subscribe(ctx context.Context, a auth.Actor, viewing *cases.Case) (*Sub, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	s := &Sub{hub: h, actor: a, conn: hex.EncodeToString(b[:]), remote: make(chan Note, 64), poke: make(chan struct{}, 1)}
	if viewing != nil {
		s.caseID = viewing.ID
		if err := s.touch(ctx); err != nil {
			return nil, err
		}
	}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	if viewing != nil {
		h.pokeCase(viewing.ID, s)
	}
	return s, nil
}

// Close ends the stream and its presence.
func (s *Sub) Close() {
	h := s.hub
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	if s.caseID != 0 {
		// The request's context is gone by now; presence must still go.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := h.db.Exec(ctx, `DELETE FROM live_presence WHERE conn = ?`, s.conn); err != nil {
			h.log.Warn("live: presence left", "err", err)
		}
		h.pokeCase(s.caseID, nil)
	}
}

func (s *Sub) touch(ctx context.Context) error {
	_, err := s.hub.db.Exec(ctx, `INSERT INTO live_presence (conn, case_id, user_id, name, seen_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (conn) DO UPDATE SET seen_at = excluded.seen_at`,
		s.conn, s.caseID, s.actor.UserID, s.actor.Name, db.T(s.hub.clock.Now()))
	if err != nil {
		return fmt.Errorf("live: presence: %w", err)
	}
	return nil
}

// pokeCase tells this node's other viewers of a case to re-read who is there.
func (h *Hub) pokeCase(caseID int64, except *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s != except && s.caseID == caseID {
			select {
			case s.poke <- struct{}{}:
			default:
			}
		}
	}
}

// Viewers are the people other than a with the case open on any node.
func (h *Hub) Viewers(ctx context.Context, caseID int64, a auth.Actor) ([]Viewer, error) {
	cutoff := h.clock.Now().Add(-3 * h.opt.Heartbeat)
	rows, err := h.db.Query(ctx, `SELECT DISTINCT user_id, name FROM live_presence WHERE case_id = ? AND seen_at > ? AND user_id <> ? ORDER BY name`,
		caseID, db.T(cutoff), a.UserID)
	if err != nil {
		return nil, fmt.Errorf("live: viewers: %w", err)
	}
	defer rows.Close()
	var out []Viewer
	for rows.Next() {
		var v Viewer
		if err := rows.Scan(&v.UserID, &v.Name); err != nil {
			return nil, fmt.Errorf("live: viewers: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Run sends notes to send until ctx ends or send fails; ping is called on
// each heartbeat to keep the connection open.
func (s *Sub) Run(ctx context.Context, send func(Note) error, ping func() error) error {
	h := s.hub
	l := h.bus.Feed().Listen(256, nil)
	defer l.Close()
	beat := time.NewTicker(h.opt.Heartbeat) // real time: a connection's keep-alive, not domain time
	defer beat.Stop()
	var presence <-chan time.Time
	var last []Viewer
	sendViewers := func() error {
		if s.caseID == 0 {
			return nil
		}
		vs, err := h.Viewers(ctx, s.caseID, s.actor)
		if err != nil {
			return err
		}
		if last != nil && slices.Equal(vs, last) {
			return nil
		}
		last = append([]Viewer{}, vs...)
		return send(Note{Kind: KindPresence, Viewers: vs})
	}
	if s.caseID != 0 {
		t := time.NewTicker(h.opt.Presence)
		defer t.Stop()
		presence = t.C
		if err := sendViewers(); err != nil {
			return err
		}
	}
	for {
		var n Note
		select {
		case <-ctx.Done():
			return nil
		case <-h.stop:
			return nil
		case e, ok := <-l.C():
			if !ok {
				return nil
			}
			if l.Lagged() {
				if err := send(Note{Kind: KindReload}); err != nil {
					return err
				}
			}
			var keep bool
			if n, keep = feedNote(e); !keep {
				continue
			}
		case n = <-s.remote:
			if s.lagged.Swap(false) {
				if err := send(Note{Kind: KindReload}); err != nil {
					return err
				}
			}
		case <-s.poke:
			if err := sendViewers(); err != nil {
				return err
			}
			continue
		case <-presence:
			if err := sendViewers(); err != nil {
				return err
			}
			continue
		case <-beat.C:
			if s.caseID != 0 {
				if err := s.touch(ctx); err != nil {
					return err
				}
			}
			if err := ping(); err != nil {
				return err
			}
			continue
		}
		if s.dup(n.id) || !s.allowed(ctx, n) {
			continue
		}
		if err := send(n); err != nil {
			return err
		}
	}
}

// dup reports whether the event was sent already (it arrives by the feed
// and again from the table).
func (s *Sub) dup(id string) bool {
	if id == "" {
		return false
	}
	if slices.Contains(s.seen, id) {
		return true
	}
	if len(s.seen) >= 256 {
		s.seen = s.seen[1:]
	}
	s.seen = append(s.seen, id)
	return false
}

// allowed applies the visibility rule: a case note only for a case the
// subscriber may see (and, for the public side only, a public event).
func (s *Sub) allowed(ctx context.Context, n Note) bool {
	switch n.Kind {
	case KindIncident:
		return !cases.PublicOnly(s.actor)
	case KindCase:
		if cases.PublicOnly(s.actor) && !slices.Contains(publicTypes, n.Type) {
			return false
		}
		c, err := s.hub.caseOf(ctx, n)
		if err != nil {
			return false
		}
		return s.hub.cases.CanSee(ctx, s.actor, c)
	}
	return true
}

// caseOf reads the case a note is about once for all the streams that
// check it (by event id: a later event reads the case again).
func (h *Hub) caseOf(ctx context.Context, n Note) (*cases.Case, error) {
	h.cmu.Lock()
	c, ok := h.byNote[n.id]
	h.cmu.Unlock()
	if ok {
		return c, nil
	}
	c, err := h.cases.Find(ctx, h.db, n.Case)
	if err != nil {
		return nil, err
	}
	if n.id != "" {
		h.cmu.Lock()
		if len(h.byNote) >= 1024 { // bounded: the notes of a burst, not history
			clear(h.byNote)
		}
		h.byNote[n.id] = c
		h.cmu.Unlock()
	}
	return c, nil
}

// Tailing is closed once Run tails the events table: events committed
// after it reach this node's streams.
func (h *Hub) Tailing() <-chan struct{} { return h.tailing }

// Run tails the events table and hands other nodes' events to this node's
// streams, until ctx ends. Events whose seq leaves a hole (a transaction
// that took its seq earlier and commits later) are looked for again until
// the hole is older than Options.Gap.
func (h *Hub) Run(ctx context.Context) {
	var after int64
	if err := h.db.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&after); err != nil {
		h.log.Warn("live: tail start", "err", err)
	}
	close(h.tailing)
	t := newTail(after, h.opt.Gap)
	tick := time.NewTicker(h.opt.Poll)
	defer tick.Stop()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			// Rows a crashed node left behind: already ignored, now removed.
			cutoff := db.T(h.clock.Now().Add(-3 * h.opt.Heartbeat))
			if _, err := h.db.Exec(ctx, `DELETE FROM live_presence WHERE seen_at < ?`, cutoff); err != nil && ctx.Err() == nil {
				h.log.Warn("live: presence sweep", "err", err)
			}
			continue
		case <-tick.C:
		}
		if err := h.poll(ctx, t); err != nil && ctx.Err() == nil {
			h.log.Warn("live: tail", "err", err)
		}
	}
}

func (h *Hub) poll(ctx context.Context, t *tail) error {
	rows, err := h.db.Query(ctx, `SELECT seq, data FROM events WHERE seq > ? ORDER BY seq LIMIT 500`, t.from())
	if err != nil {
		return err
	}
	defer rows.Close()
	var notes []Note
	now := time.Now()
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return err
		}
		if !t.take(seq, now) {
			continue
		}
		var w struct {
			ID   string       `json:"id"`
			Type string       `json:"type"`
			Case *events.Case `json:"case"`
			Data struct {
				Number string `json:"number"`
			} `json:"data"`
		}
		if json.Unmarshal(data, &w) != nil {
			continue
		}
		inc := ""
		if w.Case == nil && len(w.Type) > 9 && w.Type[:9] == "incident." {
			inc = w.Data.Number
		}
		if n, ok := noteOf(w.ID, w.Type, w.Case, inc); ok {
			notes = append(notes, n)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	t.settle(now)
	if len(notes) > 0 {
		h.broadcast(notes)
	}
	return nil
}

func (h *Hub) broadcast(notes []Note) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		for _, n := range notes {
			select {
			case s.remote <- n:
			default:
				s.lagged.Store(true)
			}
		}
	}
}

// tail tracks which seqs were read: everything up to low, and the seqs
// above it (with the holes between them still awaited).
type tail struct {
	low   int64
	gap   time.Duration
	above map[int64]bool      // read, above low
	holes map[int64]time.Time // not read, above low: first noticed
	max   int64
}

func newTail(after int64, gap time.Duration) *tail {
	return &tail{low: after, max: after, gap: gap, above: map[int64]bool{}, holes: map[int64]time.Time{}}
}

func (t *tail) from() int64 { return t.low }

// take reports whether seq is new, noting the holes below it.
func (t *tail) take(seq int64, now time.Time) bool {
	if seq <= t.low || t.above[seq] {
		return false
	}
	delete(t.holes, seq)
	for s := t.max + 1; s < seq; s++ {
		t.holes[s] = now
	}
	t.max = max(t.max, seq)
	t.above[seq] = true
	return true
}

// settle gives up on old holes and moves low up past what is complete.
func (t *tail) settle(now time.Time) {
	for s, at := range t.holes {
		if now.Sub(at) > t.gap {
			delete(t.holes, s)
		}
	}
	for t.low < t.max {
		next := t.low + 1
		if _, hole := t.holes[next]; hole {
			break
		}
		delete(t.above, next)
		t.low = next
	}
}
