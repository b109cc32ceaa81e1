package web

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// openAPISchema returns the names of a component schema's properties and
// its required ones, as the document states them.
func openAPISchema(t *testing.T, name string) (props, required []string) {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
				Required   []string       `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	s, ok := doc.Components.Schemas[name]
	if !ok {
		t.Fatalf("no %s schema in the OpenAPI document", name)
	}
	for p := range s.Properties {
		props = append(props, p)
	}
	slices.Sort(props)
	return props, s.Required
}

// The audit log answers in the API's snake_case with exactly the fields of
// the documented AuditRecord, and pages with next_before.
func TestAuditAPIFieldNames(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d) // applying the desk is audited
		if r := e.do("agent", "POST", "/api/v1/cases", lostParcelBody()); r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		r := e.do("admin", "GET", "/api/v1/audit?limit=1", nil)
		if r.status != 200 {
			t.Fatalf("audit: %d %s", r.status, r.body)
		}
		var page struct {
			Records    []map[string]json.RawMessage `json:"records"`
			NextBefore *int64                       `json:"next_before"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil || len(page.Records) != 1 || page.NextBefore == nil {
			t.Fatalf("audit page: %v %s", err, r.body)
		}
		props, required := openAPISchema(t, "AuditRecord")
		var got []string
		for k := range page.Records[0] {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, props) {
			t.Fatalf("audit record fields %v, documented %v", got, props)
		}
		for _, k := range required {
			if _, ok := page.Records[0][k]; !ok {
				t.Fatalf("required field %s missing: %s", k, r.body)
			}
		}
		newest := page.Records[0]
		if string(newest["action"]) != `"case.create"` || string(newest["object_type"]) != `"case"` ||
			!strings.HasPrefix(string(newest["after"]), "{") {
			t.Fatalf("newest record: %s", r.body)
		}
		var seq int64
		if err := json.Unmarshal(newest["seq"], &seq); err != nil || *page.NextBefore != seq {
			t.Fatalf("next_before %d, want the page's last seq %s", *page.NextBefore, newest["seq"])
		}

		// The next page is older and chains to it.
		r = e.do("admin", "GET", "/api/v1/audit?limit=1&before="+strconv.FormatInt(seq, 10), nil)
		var older struct {
			Records []map[string]json.RawMessage `json:"records"`
		}
		if err := json.Unmarshal(r.body, &older); err != nil || len(older.Records) != 1 {
			t.Fatalf("older page: %v %s", err, r.body)
		}
		if string(older.Records[0]["hash"]) != string(newest["prev_hash"]) {
			t.Fatalf("prev_hash %s, want the older record's hash %s", newest["prev_hash"], older.Records[0]["hash"])
		}

		// An empty page is an empty list.
		r = e.do("admin", "GET", "/api/v1/audit?object_type=nothing", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"records":[]`) {
			t.Fatalf("empty page: %d %s", r.status, r.body)
		}
	})
}
