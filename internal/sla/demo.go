package sla

// demoMarkets are the demo desk's markets: code, display name, zone and
// holiday region (the same regions as the demo desk's markets; Germany is
// national + Berlin).
var demoMarkets = []struct{ code, name, zone, holidays string }{
	{"GB", "United Kingdom (England & Wales)", "Europe/London", "GB-ENG"},
	{"IE", "Ireland", "Europe/Dublin", "IE"},
	{"DE", "Germany (Berlin)", "Europe/Berlin", "DE-BE"},
	{"FR", "France", "Europe/Paris", "FR"},
	{"IT", "Italy", "Europe/Rome", "IT"},
	{"ES", "Spain", "Europe/Madrid", "ES"},
	{"NL", "Netherlands", "Europe/Amsterdam", "NL"},
	{"PL", "Poland", "Europe/Warsaw", "PL"},
	{"BE", "Belgium", "Europe/Brussels", "BE"},
	{"US", "United States (federal)", "America/Los_Angeles", "US"},
}

// DemoSpecs returns the demo desk's calendars: one per market, keyed by the
// market code (Monday–Friday 09:00–18:00 local time, the market's public
// holidays), plus "emergency", open 24/7 in UTC. Each call returns fresh
// values.
func DemoSpecs() []CalendarSpec {
	out := make([]CalendarSpec, 0, len(demoMarkets)+1)
	for _, m := range demoMarkets {
		day := func() []string { return []string{"09:00-18:00"} }
		out = append(out, CalendarSpec{
			Key:      m.code,
			Name:     m.name + " business hours",
			Timezone: m.zone,
			Hours: map[string][]string{
				"mon": day(), "tue": day(), "wed": day(), "thu": day(), "fri": day(),
			},
			Holidays: m.holidays,
		})
	}
	return append(out, CalendarSpec{
		Key:      "emergency",
		Name:     "Emergency response (24/7)",
		Timezone: "UTC",
		Always:   true,
	})
}
