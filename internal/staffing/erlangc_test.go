package staffing

import (
	"errors"
	"math"
	"testing"
	"time"
)

// The published reference case: 100 contacts per 30 minutes, 180 s
// average handling time, a 20 s answer target and 14 agents.
var reference = Load{Contacts: 100, Period: 30 * time.Minute, AHT: 180 * time.Second}

func TestReferenceCase(t *testing.T) {
	out, err := Evaluate(reference, 14, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if out.Erlangs != 10 {
		t.Fatalf("traffic = %v Erlangs, want 10", out.Erlangs)
	}
	if math.Abs(out.ServiceLevel-0.8884) > 0.00005 {
		t.Fatalf("service level = %.5f, want 0.8884", out.ServiceLevel)
	}
	if math.Abs(out.ASA.Seconds()-7.84) > 0.005 {
		t.Fatalf("ASA = %.3fs, want 7.84s", out.ASA.Seconds())
	}
	if math.Abs(out.WaitChance-0.1741) > 0.00005 || math.Abs(out.Occupancy-10.0/14) > 1e-12 {
		t.Fatalf("wait chance %.5f, occupancy %.4f", out.WaitChance, out.Occupancy)
	}
}

// erlangCDirect is the textbook formula, for small n.
func erlangCDirect(a float64, n int) float64 {
	sum, term := 0.0, 1.0
	for k := 0; k < n; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	top := term * a / float64(n) * float64(n) / (float64(n) - a)
	return top / (sum + top)
}

func TestRecursionMatchesTheFormula(t *testing.T) {
	for _, tc := range []struct {
		a float64
		n int
	}{{0.5, 1}, {2, 3}, {10, 11}, {10, 14}, {37.5, 45}} {
		if got, want := erlangC(tc.a, tc.n), erlangCDirect(tc.a, tc.n); math.Abs(got-want) > 1e-12 {
			t.Errorf("C(%v, %d) = %v, formula %v", tc.a, tc.n, got, want)
		}
	}
	// Large loads stay finite where factorials overflow.
	if c := erlangC(1500, 1550); math.IsNaN(c) || c <= 0 || c >= 1 {
		t.Fatalf("C(1500, 1550) = %v", c)
	}
}

func TestNeeded(t *testing.T) {
	out, err := Needed(reference, 0.8, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The fewest: one agent fewer falls short of 80 % within 20 s.
	below, _ := Evaluate(reference, out.Agents-1, 20*time.Second)
	if out.ServiceLevel < 0.8 || below.ServiceLevel >= 0.8 {
		t.Fatalf("needed %d agents (%.4f); %d give %.4f", out.Agents, out.ServiceLevel, out.Agents-1, below.ServiceLevel)
	}
	if out.Agents != 14 || math.Abs(below.ServiceLevel-0.7956) > 0.00005 {
		t.Fatalf("agents = %d (13 give %.5f), want 14 (13 give 0.7956)", out.Agents, below.ServiceLevel)
	}
	if _, err := Needed(reference, 1, 20*time.Second); err == nil {
		t.Fatal("a service level of 1 is unreachable and must be refused")
	}
}

func TestEdges(t *testing.T) {
	if _, err := Evaluate(reference, 10, 20*time.Second); !errors.Is(err, ErrUnstable) {
		t.Fatalf("10 agents for 10 Erlangs: %v", err)
	}
	idle, err := Evaluate(Load{Contacts: 0, Period: time.Hour, AHT: time.Minute}, 1, 0)
	if err != nil || idle.ServiceLevel != 1 || idle.ASA != 0 {
		t.Fatalf("no contacts: %+v %v", idle, err)
	}
	for _, l := range []Load{{Contacts: -1, Period: time.Hour, AHT: time.Minute}, {Contacts: 1, AHT: time.Minute},
		{Contacts: 1, Period: time.Hour}, {Contacts: math.NaN(), Period: time.Hour, AHT: time.Minute}} {
		if _, err := Evaluate(l, 3, time.Second); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
	if _, err := Evaluate(reference, 0, time.Second); err == nil {
		t.Error("0 agents accepted")
	}
}
