// Package prefs keeps each user's display settings: the time zone every
// time is shown in (empty: the browser's own).
package prefs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zone names resolve on hosts without a zoneinfo database

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
)

// Prefs are one user's settings.
type Prefs struct {
	TimeZone string `json:"time_zone"` // IANA name; "": the browser's
}

// Service reads and writes preferences.
type Service struct {
	db    *db.DB
	clock clock.Clock
}

// New returns the service.
func New(d *db.DB, c clock.Clock) *Service { return &Service{db: d, clock: c} }

// Get returns a user's preferences (the defaults when none are stored).
func (s *Service) Get(ctx context.Context, userID int64) (Prefs, error) {
	var p Prefs
	err := s.db.QueryRow(ctx, `SELECT time_zone FROM user_prefs WHERE user_id = ?`, userID).Scan(&p.TimeZone)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Prefs{}, fmt.Errorf("prefs: get: %w", err)
	}
	return p, nil
}

// Check validates p: a time zone must be an IANA name such as Europe/Berlin.
func Check(p Prefs) (Prefs, error) {
	p.TimeZone = strings.TrimSpace(p.TimeZone)
	if p.TimeZone == "" {
		return p, nil
	}
	if p.TimeZone == "Local" || len(p.TimeZone) > 64 {
		return p, apperr.InvalidField("time_zone", "is not a time zone; use a name such as Europe/Berlin, or leave it empty for the browser's")
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return p, apperr.InvalidField("time_zone", "%q is not a time zone; use a name such as Europe/Berlin, or leave it empty for the browser's", p.TimeZone)
	}
	p.TimeZone = loc.String()
	return p, nil
}

// Set validates and stores a user's preferences.
func (s *Service) Set(ctx context.Context, userID int64, p Prefs) (Prefs, error) {
	p, err := Check(p)
	if err != nil {
		return p, err
	}
	now := db.T(s.clock.Now())
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO user_prefs (user_id, time_zone, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET time_zone = excluded.time_zone, updated_at = excluded.updated_at`,
			userID, p.TimeZone, now)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("prefs: set: %w", err)
	}
	return p, nil
}
