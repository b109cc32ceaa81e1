package prefs

import (
	"errors"
	"testing"

	"github.com/flare-desk/flare/internal/apperr"
)

func TestCheck(t *testing.T) {
	for in, want := range map[string]string{"": "", " Europe/Berlin ": "Europe/Berlin", "UTC": "UTC", "America/Sao_Paulo": "America/Sao_Paulo"} {
		p, err := Check(Prefs{TimeZone: in})
		if err != nil || p.TimeZone != want {
			t.Errorf("Check(%q) = %q, %v; want %q", in, p.TimeZone, err, want)
		}
	}
	for _, bad := range []string{"Local", "Berlin", "Europe/Nowhere", "../../etc/passwd"} {
		_, err := Check(Prefs{TimeZone: bad})
		var inv *apperr.Invalid
		if !errors.As(err, &inv) || inv.Errors[0].Field != "time_zone" {
			t.Errorf("Check(%q) = %v; want an invalid time_zone", bad, err)
		}
	}
}
