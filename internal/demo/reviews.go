package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/reviews"
)

// The demo desk's review packs: a weekly operations review for the
// escalations team and the leads of logistics and payments, and a monthly
// leadership review for the admins. The history has the packs the schedule
// would have built over the generated weeks (not mailed: the demo sends
// no past mail); the server's schedule builds the next ones.

var demoCadences = []reviews.Cadence{
	{Key: "weekly_ops", Name: "Weekly operations review", Every: reviews.Weekly, Day: "monday", Time: "08:00",
		Timezone: "Europe/London", Audience: reviews.Audience{Teams: []string{"escalations"},
			Users: []string{"daniel.fischer@" + EmailDomain}}},
	{Key: "monthly_leadership", Name: "Monthly leadership review", Every: reviews.Monthly, Day: "2", Time: "09:00",
		Timezone: "Europe/Berlin", Audience: reviews.Audience{Users: []string{"hannah.okafor@" + EmailDomain, "lukas.brandt@" + EmailDomain}},
		Sections: []string{reviews.SecAttention, reviews.SecKPIs, reviews.SecIncidents, reviews.SecProblems, reviews.SecMarkets}},
}

// reviewsDesk adds the cadences to the demo desk.
func reviewsDesk(cfg *desk.Config) {
	desk.Set(cfg, reviews.SettingsKey, reviews.Settings{Cadences: demoCadences})
}

// pastPacks is how many of each cadence's past packs the history has
// (fewer when the generated window is shorter).
var pastPacks = map[reviews.Kind]int{reviews.Weekly: 4, reviews.Monthly: 1}

// loadReviewPacks builds the past packs whose periods the history covers
// (give or take a few days at its start).
func loadReviewPacks(ctx context.Context, a *app.App, now time.Time) error {
	start := now.Add(-Window).AddDate(0, 0, -3)
	for _, c := range demoCadences {
		due, _ := c.Due(now)
		var ps []reviews.Period
		for p := due; len(ps) < pastPacks[c.Every] && !p.From.Before(start); p = p.Previous() {
			ps = append(ps, p)
		}
		for i := len(ps) - 1; i >= 0; i-- { // oldest first, as the schedule built them
			if _, err := a.Reviews.StoreHistory(ctx, c, ps[i]); err != nil {
				return fmt.Errorf("demo review pack %s %s: %w", c.Key, ps[i].Label, err)
			}
		}
	}
	return nil
}
