package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/macros"
)

// The case page's feedback, in-place editing, macros and seller panel
// (the page itself: ui_cases.go's casePage and templates/case.html).

// flashCookie carries the confirmation of an action across its redirect
// (POST-redirect-GET), shown once on the page it lands on.
const flashCookie = "flare_flash"

func setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// takeFlash reads the confirmation waiting for this page and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	msg, err := url.QueryUnescape(c.Value)
	if err != nil || len(msg) > 300 {
		return ""
	}
	return msg
}

// actionDone is the confirmation shown after a case-page action.
func actionDone(which string, f url.Values, c *cases.Case) string {
	switch which {
	case "comment":
		if f.Get("internal") != "" {
			return "Internal note added."
		}
		return "Reply sent to the requester."
	case "transition":
		return "Status changed to " + humanize(string(c.Status)) + "."
	case "update":
		if f.Has("owner") {
			if c.OwnerName != "" {
				return "Assigned to " + c.OwnerName + "."
			}
			return "The case is unassigned."
		}
		return "Priority set to " + c.Priority + "."
	case "edit":
		return "Changes saved."
	case "escalate":
		return "Case escalated."
	case "deescalate":
		return "Case de-escalated."
	case "handoff":
		return "Handoff sent."
	case "merge":
		return "Cases merged."
	case "suggestion":
		return "Category suggestion accepted."
	}
	return "Done."
}

// fieldLabels name the API's fields in the words of the case page.
var fieldLabels = map[string]string{
	"to": "New status", "note": "Note", "resolution": "Resolution", "priority": "Priority", "priority_reason": "Reason",
	"owner": "Owner", "body": "Message", "title": "Title", "description": "Description", "category": "Category",
	"seller_id": "Seller", "requester": "Requester", "requester.name": "Requester name", "requester.email": "Requester email",
	"tags": "Tags", "watchers": "Watchers", "version": "Version", "macro": "Macro", "market": "Market", "language": "Language",
}

// formErrors turns field errors into messages by form field (for next to
// each field) and one plain sentence: "Reason: say why you are overriding
// the priority." rather than "priority_reason say why…".
func formErrors(errs []apperr.FieldError, cat string) (map[string]string, string) {
	byField := map[string]string{}
	var parts []string
	for _, e := range errs {
		name := e.Field
		if i := strings.IndexByte(name, '['); i > 0 {
			name = name[:i] // tags[2], watchers[0]
		}
		label := fieldLabels[name]
		if key, ok := strings.CutPrefix(name, "fields."); ok {
			label = humanize(key)
			name = "field." + cat + "." + key
		}
		if label == "" {
			label = humanize(name)
		}
		if byField[name] != "" {
			byField[name] += "; "
		}
		byField[name] += e.Message
		parts = append(parts, label+": "+e.Message)
	}
	return byField, strings.Join(parts, ". ") + "."
}

// formVersion reads the version the page was rendered at ("" : none).
func formVersion(f url.Values) (*int64, error) {
	s := strings.TrimSpace(f.Get("version"))
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "version", Message: "the page is damaged: reload it"}}}
	}
	return &n, nil
}

// postEdit saves the case-page edit form: every editable field, through
// cases.Update (the API's validation and audit), refused when the case
// changed since the page was opened.
func (u *ui) postEdit(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.caseAction(w, r, a, "edit", func(ref string, f url.Values) error {
		cfg, err := u.s.app.Desk.Config(r.Context())
		if err != nil {
			return err
		}
		in := cases.UpdateInput{}
		if in.Version, err = formVersion(f); err != nil {
			return err
		}
		str := func(k string) *string {
			if !f.Has(k) {
				return nil
			}
			v := f.Get(k)
			return &v
		}
		in.Title, in.Description, in.SellerID = str("title"), str("description"), str("seller_id")
		if cat := str("category"); cat != nil {
			in.Category = cat
			if c, ok := cfg.Category(strings.TrimSpace(*cat)); ok {
				in.Fields = editFields(f, c)
			}
		}
		if f.Has("requester.name") || f.Has("requester.email") {
			in.Requester = &cases.Requester{Name: strings.TrimSpace(f.Get("requester.name")), Email: strings.TrimSpace(f.Get("requester.email"))}
		}
		if f.Has("tags") {
			t := splitTags(f.Get("tags"))
			in.Tags = &t
		}
		if f.Has("watchers") {
			ws := splitTags(f.Get("watchers"))
			in.Watchers = &ws
		}
		_, err = u.s.app.Cases.Update(r.Context(), a, ref, in)
		return err
	})
}

// editFields is formFields for an edit: a field left empty is cleared.
func editFields(f url.Values, cat desk.Category) map[string]any {
	out := formFields(f, cat)
	for _, fd := range cat.Fields {
		if _, ok := out[fd.Key]; !ok {
			out[fd.Key] = nil
		}
	}
	return out
}

// postMacro applies the macro chosen in the composer.
func (u *ui) postMacro(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.caseAction(w, r, a, "macro", func(ref string, f url.Values) error {
		key := strings.TrimSpace(f.Get("macro"))
		if key == "" {
			return &apperr.Invalid{Errors: []apperr.FieldError{{Field: "macro", Message: "choose a macro"}}}
		}
		version, err := formVersion(f)
		if err != nil {
			return err
		}
		res, err := u.s.app.Macros.Apply(r.Context(), a, ref, key, version)
		if err != nil {
			return err
		}
		f.Set("done", macroDone(res))
		return nil
	})
}

func macroDone(res *macros.Result) string {
	var did []string
	if res.Replied {
		did = append(did, "reply sent")
	}
	if res.Noted {
		did = append(did, "internal note added")
	}
	if res.Status != "" {
		did = append(did, "status "+humanize(res.Status))
	}
	if len(res.Tags) > 0 {
		did = append(did, "tagged "+strings.Join(res.Tags, ", "))
	}
	if len(did) == 0 {
		return "Macro applied: nothing needed changing."
	}
	return "Macro applied: " + strings.Join(did, "; ") + "."
}

// sellerPanel is the case's seller as the page shows it: who they are and
// their other cases.
type sellerPanel struct {
	cases.SellerInfo
	Open     []*cases.Case // active cases of the seller, this one aside
	Recent   []*cases.Case // their latest cases, any status
	MoreOpen bool
}

func (u *ui) sellerPanel(r *http.Request, a auth.Actor, c *cases.Case) (*sellerPanel, error) {
	if c.SellerID == nil {
		return nil, nil
	}
	sl, ok, err := u.s.app.Cases.Seller(r.Context(), *c.SellerID)
	if err != nil || !ok {
		return nil, err
	}
	p := &sellerPanel{SellerInfo: sl}
	const show = 5
	open, err := u.s.app.Cases.List(r.Context(), a, cases.ListFilter{SellerID: sl.ID, Status: cases.ActiveStatuses, Sort: "priority", Limit: show + 1})
	if err != nil {
		return nil, err
	}
	for _, oc := range open.Cases {
		if oc.ID != c.ID && len(p.Open) < show {
			p.Open = append(p.Open, oc)
		}
	}
	p.MoreOpen = open.NextCursor != ""
	recent, err := u.s.app.Cases.List(r.Context(), a, cases.ListFilter{SellerID: sl.ID, Sort: "-created_at", Limit: show + 1})
	if err != nil {
		return nil, err
	}
	for _, rc := range recent.Cases {
		if rc.ID != c.ID && !rc.Status.Active() && len(p.Recent) < show {
			p.Recent = append(p.Recent, rc)
		}
	}
	return p, nil
}

// fieldsForm is c's custom fields as the edit form's inputs hold them.
func fieldsForm(cfg *desk.Config, c *cases.Case) url.Values {
	out := url.Values{}
	cat, ok := cfg.Category(c.Category)
	if !ok {
		return out
	}
	for _, fd := range cat.Fields {
		name := "field." + cat.Key + "." + fd.Key
		switch v := c.Fields[fd.Key].(type) {
		case nil:
		case []any:
			for _, x := range v {
				out.Add(name, fmt.Sprint(x))
			}
		case map[string]any: // money
			out.Set(name+".amount", fmt.Sprint(v["amount"]))
			if cur, ok := v["currency"]; ok {
				out.Set(name+".currency", fmt.Sprint(cur))
			}
		default:
			out.Set(name, fmt.Sprint(v))
		}
	}
	return out
}

// nameChanges writes people's names for their emails in the owner and
// watcher changes of evs, as far as names are known (the owners the page
// lists, the people who acted on the case).
func nameChanges(evs []cases.Event, users []auth.User) {
	names := map[string]string{}
	for _, u := range users {
		names[strings.ToLower(u.Email)] = u.Name
	}
	for _, e := range evs {
		if e.Actor != nil && e.ActorName != "" {
			names[strings.ToLower(*e.Actor)] = e.ActorName
		}
	}
	name := func(v any) any {
		if s, ok := v.(string); ok && names[strings.ToLower(s)] != "" {
			return names[strings.ToLower(s)]
		}
		return v
	}
	for _, e := range evs {
		list, _ := e.Data["changes"].([]any)
		for _, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			switch m["field"] {
			case "owner":
				m["old"], m["new"] = name(m["old"]), name(m["new"])
			case "watchers":
				for _, k := range []string{"old", "new"} {
					if ws, ok := m[k].([]any); ok {
						for i := range ws {
							ws[i] = name(ws[i])
						}
					}
				}
			}
		}
	}
}
