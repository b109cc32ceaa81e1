package cases

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/jobs"
)

// Snapshot is the desk's open work at one moment: counts per status, and
// active cases per team and priority. A daily snapshot is the baseline
// later trend reports compare against.
type Snapshot struct {
	TakenAt    time.Time                 `json:"taken_at"`
	ByStatus   map[string]int            `json:"by_status"`
	ActiveTeam map[string]map[string]int `json:"active_by_team_priority"`
}

// TakeSnapshot counts cases and stores the snapshot for now's UTC day,
// replacing an earlier one of the same day.
func TakeSnapshot(ctx context.Context, d *db.DB, now time.Time) (*Snapshot, error) {
	s := &Snapshot{TakenAt: now, ByStatus: map[string]int{}, ActiveTeam: map[string]map[string]int{}}
	rows, err := d.Query(ctx, `SELECT status, team, priority, COUNT(*) FROM cases GROUP BY status, team, priority`)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, team, prio string
		var n int
		if err := rows.Scan(&status, &team, &prio, &n); err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		s.ByStatus[status] += n
		if Status(status).Active() {
			if s.ActiveTeam[team] == nil {
				s.ActiveTeam[team] = map[string]int{}
			}
			s.ActiveTeam[team][prio] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	_, err = d.Exec(ctx, `INSERT INTO desk_snapshots (day, taken_at, data) VALUES (?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET taken_at = excluded.taken_at, data = excluded.data`,
		now.UTC().Format(time.DateOnly), db.T(now), mustJSON(s))
	if err != nil {
		return nil, fmt.Errorf("store snapshot: %w", err)
	}
	return s, nil
}

// SnapshotArgs is the daily desk snapshot job.
type SnapshotArgs struct{}

// Kind implements river.JobArgs.
func (SnapshotArgs) Kind() string { return "desk_snapshot" }

type snapshotWorker struct {
	river.WorkerDefaults[SnapshotArgs]
	db    *db.DB
	clock clock.Clock
}

func (w *snapshotWorker) Work(ctx context.Context, _ *river.Job[SnapshotArgs]) error {
	_, err := TakeSnapshot(ctx, w.db, w.clock.Now())
	return err
}

// RegisterJobs adds the case desk's workers and periodic jobs.
func RegisterJobs(reg *jobs.Registry, d *db.DB, c clock.Clock) {
	river.AddWorker(reg.Workers, &snapshotWorker{db: d, clock: c})
	// Hourly keeps today's snapshot fresh; the last run of a day is that day's figure.
	reg.Every(time.Hour, func() river.JobArgs { return SnapshotArgs{} }, "desk_snapshot")
}
