package web

// Notifications in the UI: the bell in the top bar (its unread count), the
// notifications page at /notifications (the list, mark read, and the
// person's preferences), and for admins the webhook subscriptions at
// /admin/webhooks with each one's delivery log.

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/notify"
)

// addNotifyFuncs adds the template functions the bell and the pages use.
func (u *ui) addNotifyFuncs(fm template.FuncMap) {
	fm["notifyUnread"] = func(v view) int {
		if v.Me == nil || v.Me.UserID == 0 {
			return 0
		}
		ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
		defer cancel()
		n, err := u.s.app.Notify.Unread(ctx, *v.Me)
		if err != nil {
			u.s.log.Warn("unread notifications", "err", err)
			return 0
		}
		return n
	}
	fm["kindLabel"] = kindLabel
	fm["deliveryStates"] = func() []string { return []string{"pending", "sent", "failed"} }
	fm["webhookURL"] = func(s string) string { // what the page shows of a URL: no credentials, no query
		p, err := url.Parse(s)
		if err != nil {
			return ""
		}
		p.User, p.RawQuery = nil, ""
		return p.String()
	}
}

// kindLabel names a kind of notification for people.
func kindLabel(k notify.Kind) string {
	switch k {
	case notify.KindAssigned:
		return "A case is assigned to me"
	case notify.KindMention:
		return "I am @-mentioned"
	case notify.KindHandoffRequested:
		return "My team is asked for a handoff"
	case notify.KindHandoffAnswered:
		return "A handoff on my case is answered"
	case notify.KindSLAWarning:
		return "SLA warning on my (or my team's) case"
	case notify.KindSLABreach:
		return "SLA breach on my (or my team's) case"
	case notify.KindEscalation:
		return "A case is escalated to me"
	case notify.KindAckMissed:
		return "An escalation of my case was not acknowledged"
	case notify.KindResolved:
		return "My case is resolved"
	case notify.KindReopened:
		return "My case is reopened"
	case notify.KindStatus:
		return "A case I watch (or of a seller I manage) changes status"
	}
	return humanize(string(k))
}

// notificationsData is the notifications page.
type notificationsData struct {
	Inbox    *notify.Inbox
	Unread   bool // showing unread only
	Prefs    *notify.PreferencesView
	Kinds    []notify.Kind
	Channels []notify.Channel
	Saved    bool
	Error    string
	NextURL  string
}

// Wants reports whether the preferences send kind k on channel c.
func (d notificationsData) Wants(k notify.Kind, c notify.Channel) bool {
	return slices.Contains(d.Prefs.Channels[k], c)
}

func (u *ui) notificationsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.renderNotifications(w, r, a, http.StatusOK, r.URL.Query().Get("saved") == "1", "")
}

func (u *ui) renderNotifications(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, saved bool, msg string) error {
	q := r.URL.Query()
	f := notify.InboxFilter{Unread: q.Get("unread") == "1", Limit: 50}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return badRequest("before must be a notification id.")
		}
		f.Before = n
	}
	ctx := r.Context()
	in, err := u.s.app.Notify.List(ctx, a, f)
	if err != nil {
		return err
	}
	prefs, err := u.s.app.Notify.Preferences(ctx, a)
	if err != nil {
		return err
	}
	d := notificationsData{Inbox: in, Unread: f.Unread, Prefs: prefs, Kinds: notify.Kinds, Channels: notify.Channels,
		Saved: saved, Error: msg}
	if in.NextBefore > 0 {
		d.NextURL = queryWith(q, "before", strconv.FormatInt(in.NextBefore, 10))
	}
	u.render(w, r, status, "notifications", view{Me: &a, Title: "Notifications", Nav: "notifications", Data: d})
	return nil
}

// postNotificationsRead marks one notification read (id) or all, then goes
// on to next (the case it is about) or back to the list.
func (u *ui) postNotificationsRead(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	in := notify.ReadInput{All: f.Get("all") == "1"}
	if id := f.Get("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 1 {
			return badRequest("id must be a notification id.")
		}
		in.IDs = []int64{n}
	}
	if _, err := u.s.app.Notify.MarkRead(r.Context(), a, in); err != nil {
		return err
	}
	next := "/notifications"
	if n := f.Get("next"); n != "" {
		next = safeNext(n)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// postNotifyPreferences saves the preferences form: a checkbox per kind
// and channel ("ch.<kind>" = channel), quiet hours on or off.
func (u *ui) postNotifyPreferences(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	p := notify.Preferences{Channels: map[notify.Kind][]notify.Channel{}}
	for _, k := range notify.Kinds {
		chs := []notify.Channel{}
		for _, c := range f["ch."+string(k)] {
			chs = append(chs, notify.Channel(c))
		}
		p.Channels[k] = chs
	}
	if f.Get("quiet") == "1" {
		p.Quiet = &notify.QuietHours{Start: strings.TrimSpace(f.Get("quiet_start")), End: strings.TrimSpace(f.Get("quiet_end"))}
	}
	if _, err := u.s.app.Notify.SetPreferences(r.Context(), a, p); err != nil {
		p := toProblem(err)
		if p.Status != http.StatusUnprocessableEntity {
			return err
		}
		msg := p.Detail
		if len(p.Errors) > 0 {
			msg = fieldErrorsText(p.Errors)
		}
		return u.renderNotifications(w, r, a, p.Status, false, msg)
	}
	http.Redirect(w, r, "/notifications?saved=1#preferences", http.StatusSeeOther)
	return nil
}

// --- webhooks (admins) ---

// webhooksData is the webhook pages: the list, or one (One) with its log.
type webhooksData struct {
	Hooks      []*notify.Webhook
	One        *notify.Webhook
	Log        *notify.DeliveryPage
	Types      []events.Type
	Formats    []string
	Secret     string // just made or rotated: shown once
	Error      string
	Form       url.Values
	StateOf    string // the log's state filter
	NextLogURL string
}

func (u *ui) webhooksPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.renderWebhooks(w, r, a, http.StatusOK, "", "", nil)
}

func (u *ui) renderWebhooks(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, secret, msg string, form url.Values) error {
	hooks, err := u.s.app.Notify.Webhooks(r.Context(), a)
	if err != nil {
		return err
	}
	d := webhooksData{Hooks: hooks, Types: events.Types(), Formats: notify.Formats, Secret: secret, Error: msg, Form: form}
	u.render(w, r, status, "webhooks", view{Me: &a, Title: "Webhooks", Nav: "webhooks", Data: d})
	return nil
}

// webhookForm reads the create form.
func webhookForm(f url.Values) notify.WebhookInput {
	name, link, format := strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("url")), f.Get("format")
	types := []events.Type{}
	for _, t := range f["event_types"] {
		types = append(types, events.Type(t))
	}
	restricted := f.Get("include_restricted") == "1"
	return notify.WebhookInput{Name: &name, URL: &link, Format: &format, EventTypes: &types, IncludeRestricted: &restricted}
}

func (u *ui) postWebhook(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	wh, err := u.s.app.Notify.CreateWebhook(r.Context(), a, webhookForm(r.PostForm))
	if err != nil {
		p := toProblem(err)
		if p.Status != http.StatusUnprocessableEntity {
			return err
		}
		return u.renderWebhooks(w, r, a, p.Status, "", fieldErrorsText(p.Errors), r.PostForm)
	}
	return u.renderWebhook(w, r, a, wh.ID, http.StatusCreated, wh.Secret, "")
}

func (u *ui) webhookPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return u.renderWebhook(w, r, a, id, http.StatusOK, "", "")
}

func (u *ui) renderWebhook(w http.ResponseWriter, r *http.Request, a auth.Actor, id int64, status int, secret, msg string) error {
	ctx := r.Context()
	wh, err := u.s.app.Notify.Webhook(ctx, a, id)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := notify.DeliveryFilter{WebhookID: id, State: q.Get("state"), Limit: 50, WithLog: true}
	if b := q.Get("before"); b != "" {
		if f.Before, err = strconv.ParseInt(b, 10, 64); err != nil || f.Before < 1 {
			return badRequest("before must be a delivery id.")
		}
	}
	log, err := u.s.app.Notify.Deliveries(ctx, a, f)
	if err != nil {
		return err
	}
	d := webhooksData{One: wh, Log: log, Types: events.Types(), Formats: notify.Formats, Secret: secret, Error: msg, StateOf: f.State}
	if log.NextBefore > 0 {
		d.NextLogURL = queryWith(q, "before", strconv.FormatInt(log.NextBefore, 10))
	}
	u.render(w, r, status, "webhooks", view{Me: &a, Title: wh.Name + " · Webhooks", Nav: "webhooks", Data: d})
	return nil
}

// postWebhookAction runs a button on a webhook's page: enable, disable,
// rotate (the secret), replay (a delivery, or every failed one), delete.
func (u *ui) postWebhookAction(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	ctx := r.Context()
	here := "/admin/webhooks/" + strconv.FormatInt(id, 10)
	switch r.PostForm.Get("action") {
	case "enable", "disable":
		on := r.PostForm.Get("action") == "enable"
		_, err = u.s.app.Notify.UpdateWebhook(ctx, a, id, notify.WebhookInput{Active: &on})
	case "rotate":
		var wh *notify.Webhook
		if wh, err = u.s.app.Notify.UpdateWebhook(ctx, a, id, notify.WebhookInput{RotateSecret: true}); err == nil {
			return u.renderWebhook(w, r, a, id, http.StatusOK, wh.Secret, "")
		}
	case "replay":
		in := notify.ReplayInput{WebhookID: id}
		if d := r.PostForm.Get("delivery"); d != "" {
			n, perr := strconv.ParseInt(d, 10, 64)
			if perr != nil || n < 1 {
				return badRequest("delivery must be a delivery id.")
			}
			in.IDs = []int64{n}
		}
		_, err = u.s.app.Notify.Replay(ctx, a, in)
	case "delete":
		if err = u.s.app.Notify.DeleteWebhook(ctx, a, id); err == nil {
			http.Redirect(w, r, "/admin/webhooks", http.StatusSeeOther)
			return nil
		}
	default:
		return &apperr.Invalid{Errors: []apperr.FieldError{{Field: "action", Message: "unknown action"}}}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, here, http.StatusSeeOther)
	return nil
}
