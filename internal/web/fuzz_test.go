package web

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/input"
)

// FuzzListFilter checks the list filters' parsing (GET /cases and GET
// /handoffs) behind the edge gate: it never panics, refuses only with an
// *apperr.Invalid, and when the gate lets a query through every string the
// filters hold is one line of valid text (no NUL, control or bidi
// characters) and every list is within input.MaxList.
func FuzzListFilter(f *testing.F) {
	for _, s := range []string{
		"", "status=open,pending_internal&team=logistics&sort=due&limit=50", "owner=me&q=ESC-12", "field.order_id=ORD-1",
		"team=%00", "owner=%00", "seller_id=%00", "category=%00", "market=%00", "q=%00", "field.order_id=%00", "field.%00=x",
		"q=%1B%5B31m", "q=%E2%80%AE", "q=%FF", "q=%ED%A0%80", "team=%zz", "team=a;b", "limit=0", "limit=-1",
		"limit=99999999999999999999", "limit=1e3", "cursor=zzz", "status=active&unread=true&overdue=1",
		"team=a,,b,%20,c&team=d", "status=" + strings.Repeat("active,", input.MaxList-1) + "active", "team=" + url.QueryEscape(string(make([]byte, 200))), "sort=sideways&colour=red",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/api/v1/cases", nil)
		r.URL.RawQuery = raw
		v := &apperr.Invalid{}
		q, perr := url.ParseQuery(raw)
		if perr == nil {
			input.CheckQuery(v, q)
		}
		gated := perr == nil && len(v.Errors) == 0

		lf, err := parseListFilter(r)
		checkInvalid(t, err)
		hf, err := parseHandoffFilter(r.URL.Query())
		checkInvalid(t, err)
		if !gated {
			return
		}
		for _, filter := range []any{lf, hf} {
			walkFilter(t, reflect.ValueOf(filter), "")
		}
	})
}

func checkInvalid(t *testing.T, err error) {
	t.Helper()
	var inv *apperr.Invalid
	if err != nil && (!errors.As(err, &inv) || len(inv.Errors) == 0) {
		t.Fatalf("parse error %T: %v", err, err)
	}
}

// walkFilter checks every string and list in a parsed filter.
func walkFilter(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		if msg := input.Param.Problem(v.String()); msg != "" {
			t.Fatalf("%s = %q passed the gate but %s", path, v.String(), msg)
		}
	case reflect.Slice:
		if v.Len() > input.MaxList {
			t.Fatalf("%s has %d items, more than %d", path, v.Len(), input.MaxList)
		}
		for i := range v.Len() {
			walkFilter(t, v.Index(i), path)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkFilter(t, it.Key(), path+" key")
			walkFilter(t, it.Value(), path+"."+it.Key().String())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkFilter(t, v.Field(i), v.Type().Field(i).Name)
			}
		}
	}
}

// Found by FuzzListFilter: "active" expanded to two statuses each time, so
// status=active×100 passed the 100-value cap at the edge and became 200.
func TestHandoffFilterStatusesOnce(t *testing.T) {
	f, err := parseHandoffFilter(url.Values{"status": {strings.Repeat("active,", 99) + "open,active,declined,declined"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.Status); got != "[open accepted declined]" {
		t.Fatalf("statuses %s", got)
	}
}
