package cases

import (
	"errors"
	"strings"
	"testing"
)

func TestTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusNew, StatusOpen}: true, {StatusNew, StatusPendingInternal}: true, {StatusNew, StatusPendingRequester}: true, {StatusNew, StatusResolved}: true,
		{StatusOpen, StatusPendingInternal}: true, {StatusOpen, StatusPendingRequester}: true, {StatusOpen, StatusResolved}: true,
		{StatusPendingInternal, StatusOpen}: true, {StatusPendingInternal, StatusPendingRequester}: true, {StatusPendingInternal, StatusResolved}: true,
		{StatusPendingRequester, StatusOpen}: true, {StatusPendingRequester, StatusPendingInternal}: true, {StatusPendingRequester, StatusResolved}: true,
		{StatusResolved, StatusOpen}: true, {StatusResolved, StatusClosed}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			err := CheckTransition(from, to)
			if allowed[[2]Status{from, to}] != (err == nil) {
				t.Errorf("%s → %s: got err=%v, want allowed=%v", from, to, err, allowed[[2]Status{from, to}])
			}
		}
	}
}

func TestTransitionErrorNamesAllowed(t *testing.T) {
	err := CheckTransition(StatusResolved, StatusPendingRequester)
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("want *TransitionError, got %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "open, closed") {
		t.Fatalf("message should name the allowed statuses: %q", msg)
	}
	if msg := CheckTransition(StatusClosed, StatusOpen).Error(); !strings.Contains(msg, "cannot change status") {
		t.Fatalf("closed is final: %q", msg)
	}
}
