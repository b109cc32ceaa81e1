package sla

import (
	"slices"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/ie"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/pl"
	"github.com/rickar/cal/v2/us"
)

// Holiday regions and the rickar/cal/v2 lists behind them. Each German state
// list in rickar/cal already contains the nine nationwide holidays plus the
// state's own, so "DE-BY" is national + Bavaria.
var regionLists = map[string]struct {
	list   []*cal.Holiday
	suffix string // added to the name on a substitute (observed) date
}{
	"GB-ENG": {gb.Holidays, " (substitute day)"}, // England & Wales bank holidays, with substitute days
	"IE":     {ie.Holidays, " (substitute day)"},
	"DE":     {de.Holidays, ""}, // the nationwide holidays only
	"DE-BW":  {de.HolidaysBW, ""},
	"DE-BY":  {de.HolidaysBY, ""},
	"DE-BE":  {de.HolidaysBE, ""},
	"DE-BB":  {de.HolidaysBB, ""},
	"DE-HB":  {de.HolidaysHB, ""},
	"DE-HH":  {de.HolidaysHH, ""},
	"DE-HE":  {de.HolidaysHE, ""},
	"DE-MV":  {de.HolidaysMV, ""},
	"DE-NI":  {de.HolidaysNI, ""},
	"DE-NW":  {de.HolidaysNW, ""},
	"DE-RP":  {de.HolidaysRP, ""},
	"DE-SL":  {de.HolidaysSL, ""},
	"DE-SN":  {de.HolidaysSN, ""},
	"DE-ST":  {de.HolidaysST, ""},
	"DE-SH":  {de.HolidaysSH, ""},
	"DE-TH":  {de.HolidaysTH, ""},
	"FR":     {fr.Holidays, " (observed)"},
	"IT":     {it.Holidays, " (observed)"},
	"ES":     {es.Holidays, " (observed)"}, // national holidays only
	"NL":     {nl.Holidays, " (observed)"},
	"PL":     {pl.Holidays, " (observed)"},
	"BE":     {be.Holidays, " (observed)"},
	"US":     {us.Holidays, " (observed)"}, // federal holidays; Saturday → Friday, Sunday → Monday
}

// HolidayRegions lists the values CalendarSpec.Holidays accepts, sorted.
func HolidayRegions() []string {
	out := make([]string, 0, len(regionLists))
	for k := range regionLists {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// holidaySet is every holiday date of a region in FirstYear–LastYear, as
// civil day numbers (days since 1970-01-01). Both the holiday's own date and
// its substitute (observed) date, when the library moves it, are included.
type holidaySet struct {
	days map[int64]string
}

var (
	holidayMu   sync.Mutex
	holidayMemo = map[string]*holidaySet{}
)

// holidayRegion returns the (shared, read-only) holiday set of a region.
func holidayRegion(code string) (*holidaySet, bool) {
	r, ok := regionLists[code]
	if !ok {
		return nil, false
	}
	holidayMu.Lock()
	defer holidayMu.Unlock()
	if hs := holidayMemo[code]; hs != nil {
		return hs, true
	}
	hs := &holidaySet{days: make(map[int64]string, 12*(LastYear-FirstYear+1))}
	lo, hi := civilDay(FirstYear, 1, 1), civilDay(LastYear, 12, 31)
	put := func(t time.Time, name string) {
		if t.IsZero() {
			return
		}
		y, m, d := t.Date()
		day := civilDay(y, m, d)
		if day < lo || day > hi {
			return
		}
		hs.days[day] = joinNames(hs.days[day], name)
	}
	// One year either side, so that a substitute day that crosses the new
	// year (US: 1 Jan 2022 was a Saturday, observed Friday 31 Dec 2021) lands.
	for y := FirstYear - 1; y <= LastYear+1; y++ {
		for _, h := range r.list {
			act, obs := h.Calc(y)
			put(act, h.Name)
			if !obs.IsZero() && !sameDate(act, obs) {
				put(obs, h.Name+r.suffix)
			}
		}
	}
	holidayMemo[code] = hs
	return hs, true
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// civilDay is the number of days from 1970-01-01 to y-m-d (proleptic Gregorian).
func civilDay(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
