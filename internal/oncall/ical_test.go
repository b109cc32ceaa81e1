package oncall_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/oncall"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// RFC 5545 by hand: CRLF, lines of at most 75 octets that never split a
// character, folding with one space, TEXT escaping, UTC instants.
func TestICSWritesRFC5545(t *testing.T) {
	start := time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)
	ts := &oncall.TeamShifts{Team: "trust_safety", TeamName: "Trust & Safety", Schedule: true, Shifts: []oncall.Shift{{
		Shift: rota.Shift{Start: start, End: start.Add(12 * time.Hour), Person: "a@x", Source: rota.SourceOverride, LayerIndex: -1,
			Turn: -1, Override: "desk:0"},
		Name: "Zoë Ünal, Jr; the “second”",
		Why:  strings.Repeat("ünïcødé ", 12) + `back\slash, semi;colon` + "\nnext line",
	}}, Gaps: []rota.Gap{{Start: start.Add(12 * time.Hour), End: start.Add(13 * time.Hour)}}}
	out := string(oncall.ICS(ts, start.Add(-time.Hour)))
	if !strings.HasSuffix(out, "END:VCALENDAR\r\n") || strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Fatalf("line ends:\n%q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	var unfolded []string
	for _, l := range lines {
		if len(l) > 75 || !utf8.ValidString(l) {
			t.Errorf("line of %d octets, or a split character: %q", len(l), l)
		}
		if strings.HasPrefix(l, " ") {
			unfolded[len(unfolded)-1] += l[1:]
			continue
		}
		unfolded = append(unfolded, l)
	}
	want := map[string]bool{
		"SUMMARY:On call: Zoë Ünal\\, Jr\\; the “second”": false,
		"DESCRIPTION:Trust & Safety on call: Zoë Ünal\\, Jr\\; the “second” (a@x).\\nWhy: " + strings.Repeat("ünïcødé ", 12) +
			`back\\slash\, semi\;colon\nnext line.`: false,
		"DTSTART:20261102T070000Z":                                false,
		"DTEND:20261102T190000Z":                                  false,
		"DTSTAMP:20261102T060000Z":                                false,
		"UID:oncall-trust_safety-override-desk0-1793602800@flare": false,
		"SUMMARY:Nobody on call":                                  false,
		"TRANSP:TRANSPARENT":                                      false,
		"METHOD:PUBLISH":                                          false,
		"X-WR-CALNAME:Trust & Safety on call":                     false,
		"VERSION:2.0":                                             false,
	}
	for _, l := range unfolded {
		if _, ok := want[l]; ok {
			want[l] = true
		}
	}
	for l, seen := range want {
		if !seen {
			t.Errorf("no line %q in\n%s", l, strings.Join(unfolded, "\n"))
		}
	}
}
