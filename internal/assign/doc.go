// Package assign decides who may work a case and who gets it next. It is
// pure: callers pass the agents (with their current load), the case, the
// team's settings and `now`; nothing here reads a database or a clock.
//
// The rules, in the order Eligible checks them (the first that fails is the
// reason given):
//
//   - away: an agent set away (out of office) gets nothing;
//   - team: the case's team must be one of the agent's teams (when known);
//   - market: the agent covers the case's market (no markets = all);
//   - language: the agent speaks the case's language, compared by base tag
//     ("fr-BE" fits "fr" and "fr-FR"); a case with no language fits anyone,
//     and an agent with no languages speaks them all;
//   - skill: the category is one of the agent's skills, given as a key
//     ("logistics/lost_parcel") or a group ("logistics/"); no skills = all;
//   - shift: when the team requires it, the agent is on shift now, read in
//     the agent's own time zone;
//   - capacity: the agent's weighted load plus this case's weight does not
//     exceed their capacity.
//
// Automatic assignment (RoundRobin, LeastLoaded, Choose) applies them all.
// Take-next (FilterFor, TakeNext) skips the shift rule, because the agent
// pressing the button is at work, and refuses an away agent or one at
// capacity with an error saying so. Manual assignment by a lead is not
// blocked here; the caller may show Eligible's reason as a warning.
//
// Claiming a case atomically and keeping the timeline on re-assignment
// belong to the store: it claims with a compare-and-set (UPDATE … WHERE
// owner IS NULL) and moves to the next candidate when it loses the race.
package assign
