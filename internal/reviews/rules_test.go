package reviews

import (
	"reflect"
	"testing"
)

func rules(as []Attention) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.Rule+":"+a.Subject)
	}
	return out
}

func TestRules(t *testing.T) {
	waits := []TeamWait{
		{Team: "logistics", Handoffs: 5, MedianHours: 6, PrevHandoffs: 4, PrevMedian: 3},    // doubled
		{Team: "payments", Handoffs: 5, MedianHours: 5.9, PrevHandoffs: 4, PrevMedian: 3},   // not quite
		{Team: "governance", Handoffs: 2, MedianHours: 20, PrevHandoffs: 4, PrevMedian: 1},  // too few now
		{Team: "trust_safety", Handoffs: 9, MedianHours: 2, PrevHandoffs: 0, PrevMedian: 0}, // nothing before
	}
	if got := rules(HandoffWaitDoubled(waits)); !reflect.DeepEqual(got, []string{"handoff_wait_doubled:logistics"}) {
		t.Errorf("handoff waits: %v", got)
	}
	markets := []MarketRow{
		{Market: "DE", FirstResponse: 0.85, FirstResponseDecided: 40, PrevFirstResponse: 0.88, PrevFirstResponseDec: 30}, // two running
		{Market: "GB", FirstResponse: 0.85, FirstResponseDecided: 40, PrevFirstResponse: 0.95, PrevFirstResponseDec: 30}, // only now
		{Market: "US", FirstResponse: 0.5, FirstResponseDecided: 4, PrevFirstResponse: 0.5, PrevFirstResponseDec: 30},    // too few
		{Market: "FR", FirstResponse: 0.9, FirstResponseDecided: 40, PrevFirstResponse: 0.7, PrevFirstResponseDec: 30},   // at target now
	}
	if got := rules(FirstResponseBelowTarget(markets, 0.9)); !reflect.DeepEqual(got, []string{"first_response_below_target:DE"}) {
		t.Errorf("first response: %v", got)
	}
	cats := []Movement{{Key: "a", Intake: 60, Previous: 40, Change: 20}, {Key: "b", Intake: 59, Previous: 40, Change: 19},
		{Key: "c", Intake: 30, Previous: 0, Change: 30}, {Key: "d", Intake: 100, Previous: 80, Change: 20}}
	if got := rules(CategorySurge(cats)); !reflect.DeepEqual(got, []string{"category_surge:a", "category_surge:c"}) {
		t.Errorf("surges: %v", got)
	}
	if got := rules(BacklogGrowing(KPI{Value: 125, Previous: 100}, 50, 40)); !reflect.DeepEqual(got, []string{"backlog_growing:desk"}) {
		t.Errorf("backlog: %v", got)
	}
	for _, tc := range []struct {
		k                KPI
		intake, resolved int
	}{{KPI{Value: 124, Previous: 100}, 50, 40}, {KPI{Value: 150, Previous: 100}, 40, 40}, {KPI{Value: 10, Previous: 0}, 10, 0}} {
		if got := BacklogGrowing(tc.k, tc.intake, tc.resolved); got != nil {
			t.Errorf("backlog %+v: %v", tc, got)
		}
	}
	if got := rules(ActionsOverdue(Actions{Overdue: 2})); !reflect.DeepEqual(got, []string{"actions_overdue:postmortems"}) || ActionsOverdue(Actions{Open: 3}) != nil {
		t.Errorf("actions: %v", got)
	}
}
