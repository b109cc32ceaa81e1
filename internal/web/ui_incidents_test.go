package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// The incident pages through their forms: declare from a case, the banner
// across Flare and on the case, a note and a decision, a role, an update
// previewed and sent, cases linked, the bulk resolve queued.
func TestUIIncidents(t *testing.T) {
	e := newUIEnv(t)
	ctx := context.Background()
	c := e.client(t)
	e.signIn(t, c, "/incidents")
	mk := func(title string) string {
		cs, err := e.app.Cases.Create(ctx, auth.System("test"), cases.CreateInput{Title: title, Category: "logistics/lost_parcel",
			Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}, Requester: &cases.Requester{Name: "Sam", Email: "sam@example.com"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cs.Number
	}
	src := mk("Parcels stuck at the DPD hub")
	resp, body := e.get(t, c, "/incidents")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="declare"`) {
		t.Fatalf("list: %d", resp.StatusCode)
	}
	resp, body = e.postForm(t, c, "/incidents", url.Values{"title": {""}, "type": {"service"}, "severity": {"SEV2"}})
	if resp.StatusCode != 422 || !strings.Contains(body, "declare-error") {
		t.Fatalf("bad declare: %d", resp.StatusCode)
	}
	resp, _ = e.postForm(t, c, "/incidents", url.Values{"title": {"DPD outage"}, "type": {"logistics_disruption"}, "severity": {"SEV2"}, "case": {src}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/incidents/INC-1" {
		t.Fatalf("declare: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = e.get(t, c, "/incidents/INC-1")
	for _, want := range []string{`id="incident-banner"`, `id="incident-severity">SEV2`, `id="postmortem"`, `data-case="` + src + `"`, `id="clocks"`} {
		if !strings.Contains(body, want) {
			t.Errorf("command page lacks %s", want)
		}
	}
	post := func(action string, form url.Values) string {
		t.Helper()
		resp, body := e.postForm(t, c, "/incidents/INC-1/"+action, form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", action, resp.StatusCode, body)
		}
		return resp.Header.Get("Location")
	}
	post("note", url.Values{"body": {"Carrier confirms a sorter failure"}, "decision": {"1"}})
	post("role", url.Values{"role": {"communications_lead"}, "email": {uiTestEmail}})
	resp, body = e.postForm(t, c, "/incidents/INC-1/update", url.Values{"audience": {"public"}, "preview": {"1"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="update-preview"`) {
		t.Fatalf("preview: %d", resp.StatusCode)
	}
	post("update", url.Values{"audience": {"public"}})
	post("link", url.Values{"cases": {mk("a") + ", " + mk("b")}})
	_, body = e.get(t, c, "/incidents/INC-1")
	if !strings.Contains(body, `id="linked-count">3`) || !strings.Contains(body, `data-market="GB">GB 3`) || !strings.Contains(body, "Decision") {
		t.Fatalf("after links: %s", body[strings.Index(body, `id="cases"`):][:600])
	}
	_, body = e.get(t, c, "/cases/"+src)
	if !strings.Contains(body, `data-incident="INC-1"`) || !strings.Contains(body, "you do not need to contact us again") {
		t.Fatal("case banner with the public update")
	}
	if loc := post("resolve", url.Values{"template": {"Resolved reply"}, "resolution": {"fixed"}, "note": {"Resolved with INC-1"}}); !strings.Contains(loc, "done=resolve") {
		t.Fatalf("resolve: %s", loc)
	}
	b, err := e.app.Incidents.LatestBulk(ctx, e.lead, "INC-1")
	if err != nil || b == nil || b.Total != 3 {
		t.Fatalf("bulk: %+v %v", b, err)
	}
	_, body = e.get(t, c, "/cases")
	if strings.Contains(body, `id="incident-banner"`) {
		t.Fatal("banner after resolve")
	}
}
