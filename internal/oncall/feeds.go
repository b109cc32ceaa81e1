package oncall

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// A calendar feed is a team's on-call as iCalendar (RFC 5545) at a URL with
// a secret token in it, for calendar apps that cannot sign in. The token
// is a credential of the lead or admin who made the feed: it reads what
// they may read, for as long as they are active and may see schedules,
// until it is revoked. Only its hash is stored, so it is shown once; each
// subscriber group gets its own feed, so one can be revoked alone.

// FeedTokenPrefix starts every feed token, so leaked ones are easy to spot.
const FeedTokenPrefix = "flrcal_"

// The feed's window: what calendar apps show of the past and the future.
const (
	FeedPast   = 14 * 24 * time.Hour
	FeedFuture = 90 * 24 * time.Hour
)

// Feed is a team's calendar feed (its token is never stored).
type Feed struct {
	ID        int64      `json:"id"`
	Team      string     `json:"team"`
	Name      string     `json:"name"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedBy *string    `json:"revoked_by,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewFeed is a feed just made, with its token: shown once.
type NewFeed struct {
	Feed
	Token string `json:"token"`
}

// CreateFeed makes a calendar feed of team's on-call named name (what it is
// for: "Team calendar"). Leads and admins make feeds.
func (s *Service) CreateFeed(ctx context.Context, actor auth.Actor, team, name string) (*NewFeed, error) {
	if !MayManage(actor) {
		return nil, forbiddenManage()
	}
	if actor.UserID == 0 {
		return nil, &apperr.Forbidden{Detail: "a feed reads with the rights of the person who makes it: sign in as one"}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Team(team); !ok {
		return nil, apperr.ErrNotFound
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Calendar feed"
	}
	v := &apperr.Invalid{}
	input.Check(v, "name", input.Name, name)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("feed token: %w", err)
	}
	token := FeedTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out *NewFeed
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO oncall_feeds (team, name, token_hash, created_by, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, team, name, tokenHash(token), actor.UserID, db.T(now)).Scan(&id); err != nil {
			return fmt.Errorf("insert feed: %w", err)
		}
		f, err := feedByID(ctx, tx, id)
		if err != nil {
			return err
		}
		out = &NewFeed{Feed: *f, Token: token}
		return audit.Append(ctx, tx, now, audit.Entry{ActorID: actor.UserID, Actor: actorName(actor), Action: "oncall.feed.create",
			ObjectType: "oncall_feed", ObjectID: strconv.FormatInt(id, 10), After: map[string]any{"team": team, "name": name}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Feeds lists team's calendar feeds, revoked ones too, newest first.
func (s *Service) Feeds(ctx context.Context, actor auth.Actor, team string) ([]Feed, error) {
	if !MayManage(actor) {
		return nil, &apperr.Forbidden{Detail: "calendar feeds are managed by leads and admins"}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Team(team); !ok {
		return nil, apperr.ErrNotFound
	}
	rows, err := s.db.Query(ctx, "SELECT "+feedColumns+" WHERE f.team = ? ORDER BY f.id DESC", team)
	if err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	got, err := db.Collect(rows, scanFeed)
	if err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	out := make([]Feed, len(got))
	for i, f := range got {
		out[i] = *f
	}
	return out, nil
}

// RevokeFeed revokes team's feed id: its URL stops working at once.
// Revoking twice keeps the first time.
func (s *Service) RevokeFeed(ctx context.Context, actor auth.Actor, team string, id int64) (*Feed, error) {
	if !MayManage(actor) {
		return nil, &apperr.Forbidden{Detail: "calendar feeds are managed by leads and admins"}
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out *Feed
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		f, err := feedByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if f.Team != team {
			return apperr.ErrNotFound
		}
		if f.RevokedAt != nil {
			out = f
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE oncall_feeds SET revoked_at = ?, revoked_by = ? WHERE id = ?`,
			db.T(now), db.NullID(actor.UserID), id); err != nil {
			return fmt.Errorf("revoke feed %d: %w", id, err)
		}
		if out, err = feedByID(ctx, tx, id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{ActorID: actor.UserID, Actor: actorName(actor), Action: "oncall.feed.revoke",
			ObjectType: "oncall_feed", ObjectID: strconv.FormatInt(id, 10), After: map[string]any{"team": team, "name": f.Name}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FeedCalendar is team's on-call as iCalendar for the holder of a feed
// token. A token that is unknown, revoked, of another team, or whose maker
// has left or may no longer see schedules is apperr.ErrNotFound.
func (s *Service) FeedCalendar(ctx context.Context, team, token string) ([]byte, error) {
	if !strings.HasPrefix(token, FeedTokenPrefix) || len(token) != len(FeedTokenPrefix)+base64.RawURLEncoding.EncodedLen(32) {
		return nil, apperr.ErrNotFound
	}
	var feedTeam, role string
	var revoked db.Time
	var active bool
	err := s.db.QueryRow(ctx, `SELECT f.team, f.revoked_at, u.role, u.active FROM oncall_feeds f
		JOIN users u ON u.id = f.created_by WHERE f.token_hash = ?`, tokenHash(token)).Scan(&feedTeam, &revoked, &role, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("feed lookup: %w", err)
	}
	if feedTeam != team || !revoked.IsZero() || !active || !MaySee(auth.Actor{Role: auth.Role(role)}) {
		return nil, apperr.ErrNotFound
	}
	return s.calendar(ctx, team)
}

// Calendar is team's on-call as iCalendar for a signed-in actor.
func (s *Service) Calendar(ctx context.Context, actor auth.Actor, team string) ([]byte, error) {
	if !MaySee(actor) {
		return nil, forbiddenSee()
	}
	return s.calendar(ctx, team)
}

func (s *Service) calendar(ctx context.Context, team string) ([]byte, error) {
	now := s.clock.Now().UTC().Truncate(time.Second)
	ts, err := s.shifts(ctx, team, now.Add(-FeedPast), now.Add(FeedFuture))
	if err != nil {
		return nil, err
	}
	return ICS(ts, now), nil
}

// ICS writes team shifts as an iCalendar (RFC 5545) document: one event per
// shift ("On call: Amelia Clarke"), and one per gap ("Nobody on call") in
// a schedule, all in UTC, transparent (they do not make subscribers busy),
// with UIDs stable across fetches, folded at 75 octets with CRLF line ends.
func ICS(ts *TeamShifts, now time.Time) []byte {
	cal := ics.NewCalendarFor("Flare")
	cal.SetProductId("-//Flare//On call//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	cal.SetName(ts.TeamName + " on call")
	cal.SetXWRCalDesc("Who is on call for " + ts.TeamName + ", from Flare")
	cal.SetRefreshInterval("PT1H")
	cal.SetXPublishedTTL("PT1H")
	for _, sh := range ts.Shifts {
		e := cal.AddEvent(shiftUID(ts.Team, sh.Shift))
		e.SetDtStampTime(now)
		e.SetStartAt(sh.Start)
		e.SetEndAt(sh.End)
		e.SetSummary("On call: " + sh.Name)
		e.SetDescription(ts.TeamName + " on call: " + sh.Name + " (" + sh.Person + ").\nWhy: " + sh.Why + ".")
		e.SetTimeTransparency(ics.TransparencyTransparent)
		e.AddCategory("On call")
	}
	if ts.Schedule {
		for _, g := range ts.Gaps {
			e := cal.AddEvent(fmt.Sprintf("oncall-%s-gap-%d@flare", ts.Team, g.Start.Unix()))
			e.SetDtStampTime(now)
			e.SetStartAt(g.Start)
			e.SetEndAt(g.End)
			e.SetSummary("Nobody on call")
			e.SetDescription("Nobody is on call for " + ts.TeamName + ": a hole in the schedule.")
			e.SetTimeTransparency(ics.TransparencyTransparent)
			e.AddCategory("On call")
		}
	}
	return []byte(cal.Serialize(ics.WithNewLineWindows))
}

// shiftUID names a shift the same way on every fetch while it stays as it
// is: its team, its source and its start.
func shiftUID(team string, sh rota.Shift) string {
	src := fmt.Sprintf("layer%d-turn%d", sh.LayerIndex, sh.Turn)
	if sh.Source == rota.SourceOverride {
		src = "override-" + strings.ReplaceAll(sh.Override, ":", "")
	}
	return fmt.Sprintf("oncall-%s-%s-%d@flare", team, src, sh.Start.Unix())
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

const feedColumns = `f.id, f.team, f.name, cu.email, f.created_at, ru.email, f.revoked_at
	FROM oncall_feeds f JOIN users cu ON cu.id = f.created_by LEFT JOIN users ru ON ru.id = f.revoked_by`

func scanFeed(r db.Scanner) (*Feed, error) {
	var f Feed
	var created, revoked db.Time
	var revokedBy sql.NullString
	if err := r.Scan(&f.ID, &f.Team, &f.Name, &f.CreatedBy, &created, &revokedBy, &revoked); err != nil {
		return nil, err
	}
	f.CreatedAt, f.RevokedAt = created.Time, revoked.Ptr()
	if revokedBy.Valid {
		f.RevokedBy = &revokedBy.String
	}
	return &f, nil
}

func feedByID(ctx context.Context, q db.Querier, id int64) (*Feed, error) {
	f, err := scanFeed(q.QueryRow(ctx, "SELECT "+feedColumns+" WHERE f.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load feed %d: %w", id, err)
	}
	return f, nil
}
