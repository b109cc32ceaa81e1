package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
)

// The desk admin page shows the applied document and the what-if of a
// proposal, and writes nothing.
func TestDeskAdminPage(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newAPIEnv(t, d)
		for range 3 {
			e.newCase("")
		}
		form := func(role string, v url.Values) reply {
			t.Helper()
			return e.do(role, "POST", "/admin/desk/impact", v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
		}
		version, err := e.app.Desk.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}

		r := e.do("admin", "GET", "/admin/desk", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `id="desk-yaml"`) ||
			!strings.Contains(string(r.body), "version "+itoa(version)) || !strings.Contains(string(r.body), `href="/admin/desk" aria-current="page">Desk</a>`) {
			t.Fatalf("admin GET /admin/desk: %d\n%s", r.status, r.body)
		}
		if !regexp.MustCompile(`(?s)<textarea id="desk-proposal"[^>]*>\s*markets:`).Match(r.body) {
			t.Error("the proposal does not start from the applied document")
		}
		if r := e.do("agent", "GET", "/admin/desk", nil); r.status != 403 {
			t.Errorf("agent GET /admin/desk: %d, want 403", r.status)
		}
		if r := e.do("agent", "GET", "/queue", nil); strings.Contains(string(r.body), `href="/admin/desk"`) {
			t.Error("an agent's navigation links the desk page")
		}
		if r := form("agent", url.Values{"yaml": {"markets: []\n"}, "days": {"30"}}); r.status != 403 {
			t.Errorf("agent POST /admin/desk/impact: %d, want 403", r.status)
		}

		before := countRows(t, d)
		r = form("admin", url.Values{"yaml": {"markets: [{code: gb}]\n"}, "days": {"30"}})
		if r.status != 422 || !strings.Contains(string(r.body), `id="desk-errors"`) || !strings.Contains(string(r.body), "<code>markets[0]") {
			t.Errorf("bad YAML: %d, want 422 naming the path\n%s", r.status, r.body)
		}
		if r := form("admin", url.Values{"yaml": {"markets: []\n"}, "days": {"91"}}); r.status != 422 || !strings.Contains(string(r.body), "Days must be") {
			t.Errorf("days 91: %d, want 422", r.status)
		}

		// The proposal moves lost parcels from logistics to payments.
		cfg, err := e.app.Desk.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		moved := false
		for i, c := range cfg.Categories {
			if c.Key == "logistics/lost_parcel" {
				cfg.Categories[i].Team, moved = "payments", true
			}
		}
		if !moved {
			t.Fatal("the example desk has no logistics/lost_parcel")
		}
		proposal, err := desk.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r = form("admin", url.Values{"yaml": {string(proposal)}, "days": {"30"}})
		m := regexp.MustCompile(`id="impact-changed-team">(\d+)<`).FindSubmatch(r.body)
		if r.status != 200 || m == nil || string(m[1]) == "0" || !strings.Contains(string(r.body), "logistics → payments: ") ||
			!strings.Contains(string(r.body), `id="impact-by-team"`) || !strings.Contains(string(r.body), `id="impact-by-market"`) {
			t.Fatalf("what-if: %d, changed team %q\n%s", r.status, m, r.body)
		}
		// The browser sends multipart: a file, here larger than the edge's
		// limit on a form value, gives the same answer.
		for i := range 2000 {
			s := cfg.Sellers[0]
			s.ID, s.Name = fmt.Sprintf("S-%d", 50000+i), fmt.Sprintf("Padding seller %d", i)
			cfg.Sellers = append(cfg.Sellers, s)
		}
		big, err := desk.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(big) <= 100_000 {
			t.Fatalf("the large proposal has %d bytes", len(big))
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("days", "30")
		_ = mw.WriteField("yaml", "")
		fw, _ := mw.CreateFormFile("file", "desk.yaml")
		_, _ = fw.Write(big)
		_ = mw.Close()
		r = e.do("admin", "POST", "/admin/desk/impact", buf.String(), "Content-Type", mw.FormDataContentType())
		if m2 := regexp.MustCompile(`id="impact-changed-team">(\d+)<`).FindSubmatch(r.body); r.status != 200 || m2 == nil || string(m2[1]) != string(m[1]) {
			t.Fatalf("what-if of an uploaded file: %d, changed team %q, want %s\n%.2000s", r.status, m2, m[1], r.body)
		}
		// The API gives the same answer as JSON.
		r = e.do("admin", "POST", "/api/v1/desk/impact?days=30", string(proposal), "Content-Type", "application/yaml")
		var im struct {
			ChangedTeam int            `json:"changed_team"`
			Moves       map[string]int `json:"moves"`
		}
		if err := json.Unmarshal(r.body, &im); r.status != 200 || err != nil || im.ChangedTeam == 0 || string(m[1]) != itoa(int64(im.ChangedTeam)) {
			t.Errorf("API what-if: %d %s", r.status, r.body)
		}
		for _, bad := range []string{"/api/v1/desk/impact?days=0", "/api/v1/desk/impact?days=x"} {
			if r := e.do("admin", "POST", bad, string(proposal), "Content-Type", "application/yaml"); r.status != 422 {
				t.Errorf("POST %s: %d, want 422", bad, r.status)
			}
		}
		if r := e.do("admin", "POST", "/api/v1/desk/impact", "markets: [{code: gb}]\n", "Content-Type", "application/yaml"); r.status != 422 ||
			!strings.Contains(string(r.body), "markets[0]") {
			t.Errorf("API bad YAML: %d %s", r.status, r.body)
		}

		if after := countRows(t, d); after != before {
			t.Errorf("the what-if wrote: %s → %s", before, after)
		}
		if v, err := e.app.Desk.Version(ctx); err != nil || v != version {
			t.Errorf("desk version %d → %d (%v)", version, v, err)
		}
	})
}
