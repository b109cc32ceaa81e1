// Package staffing is pure: how many agents an hour of intake needs, by
// the Erlang C model — contacts arrive at random (Poisson), wait in one
// queue, and are answered by N interchangeable agents whose handling times
// are exponential. It answers the two questions a lead asks: with these
// agents, what service level and average speed of answer; and for this
// service level, how many agents.
package staffing

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Load is the work offered over a period.
type Load struct {
	Contacts float64       // contacts arriving in Period
	Period   time.Duration // e.g. 30 minutes
	AHT      time.Duration // average handling time per contact
}

// Erlangs is the offered traffic: the agents' worth of work arriving.
func (l Load) Erlangs() float64 {
	return l.Contacts / l.Period.Seconds() * l.AHT.Seconds()
}

// Check reports what makes l unusable.
func (l Load) Check() error {
	switch {
	case l.Contacts < 0 || math.IsNaN(l.Contacts) || math.IsInf(l.Contacts, 0):
		return errors.New("contacts must be a number of at least 0")
	case l.Period <= 0:
		return errors.New("period must be positive")
	case l.AHT <= 0:
		return errors.New("average handling time must be positive")
	}
	return nil
}

// Outcome is how N agents meet a load.
type Outcome struct {
	Agents       int
	Erlangs      float64       // offered traffic
	Occupancy    float64       // the share of agents' time spent handling, Erlangs/Agents
	WaitChance   float64       // the probability a contact waits at all (Erlang C)
	ServiceLevel float64       // the share answered within the target
	ASA          time.Duration // average speed of answer
}

// ErrUnstable means the agents cannot keep up: work arrives faster than
// they handle it and the queue grows without end.
var ErrUnstable = errors.New("the agents cannot keep up with the load: the queue grows without end")

// Evaluate is the outcome of agents answering l with target as the answer
// time that counts as service.
func Evaluate(l Load, agents int, target time.Duration) (Outcome, error) {
	if err := l.Check(); err != nil {
		return Outcome{}, err
	}
	if agents < 1 {
		return Outcome{}, errors.New("agents must be at least 1")
	}
	if target < 0 {
		return Outcome{}, errors.New("the answer-time target must not be negative")
	}
	a, n := l.Erlangs(), float64(agents)
	out := Outcome{Agents: agents, Erlangs: a, Occupancy: a / n}
	if a == 0 {
		out.ServiceLevel = 1
		return out, nil
	}
	if a >= n {
		return out, ErrUnstable
	}
	out.WaitChance = erlangC(a, agents)
	aht := l.AHT.Seconds()
	out.ServiceLevel = 1 - out.WaitChance*math.Exp(-(n-a)*target.Seconds()/aht)
	out.ASA = time.Duration(out.WaitChance * aht / (n - a) * float64(time.Second))
	return out, nil
}

// erlangC is the probability that a contact waits with n agents and a
// Erlangs offered (a < n). It is computed through the Erlang B recursion,
// B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)), which stays exact where the
// textbook form's powers and factorials overflow.
func erlangC(a float64, n int) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	rho := a / float64(n)
	return b / (1 - rho + rho*b)
}

// MaxAgents bounds the search for a staffing level.
const MaxAgents = 100_000

// Needed is the fewest agents for which l is answered within target at
// least at serviceLevel (0 < serviceLevel < 1).
func Needed(l Load, serviceLevel float64, target time.Duration) (Outcome, error) {
	if err := l.Check(); err != nil {
		return Outcome{}, err
	}
	if !(serviceLevel > 0 && serviceLevel < 1) {
		return Outcome{}, fmt.Errorf("service level must be between 0 and 1 (exclusive), got %v", serviceLevel)
	}
	start := max(1, int(math.Floor(l.Erlangs()))+1) // fewer cannot keep up
	for n := start; n <= MaxAgents; n++ {
		out, err := Evaluate(l, n, target)
		if err != nil {
			return Outcome{}, err
		}
		if out.ServiceLevel >= serviceLevel {
			return out, nil
		}
	}
	return Outcome{}, fmt.Errorf("more than %d agents would be needed", MaxAgents)
}
