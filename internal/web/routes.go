package web

import (
	"net/http"
	"net/url"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/portal"
	"github.com/flare-desk/flare/internal/signals"
)

// registerRoutes is the server's one route table: every API endpoint and
// page, by capability. Handlers live in api_<capability>.go and
// ui_<capability>.go; each asks its capability, which decides.
func (s *Server) registerRoutes() {
	m, u := s.mux, s.ui

	// Health, metrics, the API's description.
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", s.ready)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})

	// The API under /api/v1 (api.go wraps each with authentication).
	s.api("GET", "/me", s.me)
	// cases (api_cases.go)
	s.api("POST", "/cases", s.createCase)
	s.api("GET", "/cases", s.listCases)
	s.api("POST", "/cases/bulk", s.bulkCases) // api_bulk.go
	// saved views (api_views.go)
	s.api("GET", "/views", s.listViews)
	s.api("POST", "/views", s.createView)
	s.api("GET", "/views/{id}", s.getView)
	s.api("PUT", "/views/{id}", s.updateView)
	s.api("DELETE", "/views/{id}", s.deleteView)
	s.api("GET", "/cases/{ref}", s.getCase)
	s.api("PATCH", "/cases/{ref}", s.updateCase)
	s.api("POST", "/cases/{ref}/transitions", s.transitionCase)
	s.api("POST", "/cases/{ref}/comments", s.commentCase)
	s.api("GET", "/cases/{ref}/events", s.caseEvents)
	// handoffs (api_handoffs.go)
	s.api("POST", "/cases/{ref}/handoffs", s.createHandoff)
	s.api("GET", "/cases/{ref}/handoffs", s.caseHandoffs)
	s.api("GET", "/handoffs", s.listHandoffs)
	s.api("GET", "/handoffs/stats", s.handoffStats)
	s.api("GET", "/handoffs/{id}", s.getHandoff)
	for _, action := range []string{handoffs.Accept, handoffs.Answer, handoffs.Complete, handoffs.Decline, handoffs.Cancel} {
		s.api("POST", "/handoffs/{id}/"+action, s.handoffAction(action))
	}
	// escalation (api_escalation.go)
	s.api("POST", "/cases/{ref}/escalations", s.escalateCase)
	s.api("GET", "/cases/{ref}/escalations", s.caseEscalations)
	s.api("POST", "/cases/{ref}/escalations/{id}/ack", s.ackEscalation)
	s.api("POST", "/cases/{ref}/deescalate", s.deescalateCase)
	s.api("GET", "/escalations", s.listEscalations)
	// assignment (api_assignment.go)
	s.api("POST", "/teams/{team}/take-next", s.takeNext)
	s.api("GET", "/teams/{team}/agents", s.teamAgents)
	s.api("PUT", "/agents/{email}/away", s.setAway)
	// routing (api_routing.go)
	s.api("POST", "/routing/explain", s.explainRouting)
	// SLA: calendars (api_calendars.go) and breaches (api_sla.go)
	s.api("GET", "/calendars", s.listCalendars)
	s.api("GET", "/calendars/{key}/due", s.calendarDue)
	s.api("GET", "/calendars/{key}/between", s.calendarBetween)
	s.api("GET", "/sla/breaches", s.slaEvents)
	// reports (api_reports.go)
	s.api("GET", "/reports/metrics", s.reportMetrics)
	s.api("GET", "/reports/live", s.reportLive)
	s.api("GET", "/reports/charts", s.reportCharts)
	s.api("GET", "/reports/summary", s.reportSummary)
	s.api("GET", "/reports/staffing", s.reportStaffing)
	// review packs (api_reviews.go)
	s.api("GET", "/reports/packs", s.listPacks)
	s.api("GET", "/reports/packs/build", s.previewPack)
	s.api("GET", "/reports/packs/{id}", s.getPack)
	// the desk document (api_desk.go) and the audit log (api_audit.go)
	s.api("GET", "/desk", s.getDesk)
	s.api("PUT", "/desk", s.putDesk)
	s.api("POST", "/desk/impact", s.deskImpact)
	s.api("GET", "/audit", s.listAudit)
	// attachments (api_attachments.go): a case's files, downloads, uploads
	s.api("GET", "/cases/{ref}/attachments", s.listAttachments)
	s.api("POST", "/cases/{ref}/attachments", s.addAttachments)
	s.api("GET", "/attachments/{id}", s.getAttachment)
	m.HandleFunc("GET /attachments/{id}", u.page(u.downloadAttachment))
	m.HandleFunc("POST /cases/{ref}/attachments", u.page(u.postAttachments))

	// on-call (api_oncall.go): who is on call, shifts, overrides, calendar feeds
	s.api("GET", "/oncall", s.whoIsOnCall)
	s.api("GET", "/oncall/{team}/shifts", s.oncallShifts)
	s.api("GET", "/oncall/{team}/overrides", s.listOverrides)
	s.api("POST", "/oncall/{team}/overrides", s.createOverride)
	s.api("DELETE", "/oncall/{team}/overrides/{id}", s.endOverride)
	s.api("GET", "/oncall/{team}/feeds", s.listFeeds)
	// signals and alerts (api_signals.go)
	s.api("GET", "/signals", s.listSignals)
	s.api("GET", "/signals/{id}", s.getSignal)
	s.api("GET", "/alerts", s.listAlerts)
	s.api("GET", "/alerts/{id}", s.getAlert)
	s.api("POST", "/alerts/{id}/acknowledge", s.alertAction(signals.AlertAcknowledged))
	s.api("POST", "/alerts/{id}/close", s.alertAction(signals.AlertClosed))
	s.api("POST", "/oncall/{team}/feeds", s.createFeed)
	s.api("DELETE", "/oncall/{team}/feeds/{id}", s.revokeFeed)
	s.oncallFeedRoute() // GET /oncall/{team}.ics: a feed token in the URL instead of a login
	// event deliveries (api_events.go)
	s.api("GET", "/admin/subscribers", s.eventSubscribers)
	s.api("GET", "/admin/deliveries", s.listDeliveries)
	s.api("POST", "/admin/deliveries/replay", s.replayDeliveries)
	// notifications (api_notify.go): the bell and preferences; webhooks and the delivery log (admins)
	s.api("GET", "/notifications", s.listNotifications)
	s.api("POST", "/notifications/read", s.readNotifications)
	s.api("GET", "/notifications/preferences", s.getNotifyPreferences)
	s.api("PUT", "/notifications/preferences", s.putNotifyPreferences)
	s.api("GET", "/admin/webhooks", s.listWebhooks)
	s.api("POST", "/admin/webhooks", s.createWebhook)
	s.api("GET", "/admin/webhooks/{id}", s.getWebhook)
	s.api("PATCH", "/admin/webhooks/{id}", s.updateWebhook)
	s.api("DELETE", "/admin/webhooks/{id}", s.deleteWebhook)
	s.api("GET", "/admin/notification-deliveries", s.listNotifyDeliveries)
	s.api("GET", "/admin/notification-deliveries/{id}", s.getNotifyDelivery)
	s.api("POST", "/admin/notification-deliveries/replay", s.replayNotifyDeliveries)
	// incidents (api_incidents.go)
	s.api("GET", "/incidents", s.listIncidents)
	s.api("POST", "/incidents", s.declareIncident)
	s.api("GET", "/incidents/definitions", s.incidentDefinitions)
	s.api("GET", "/incidents/metrics", s.incidentMetrics)
	s.api("GET", "/incidents/{ref}", s.getIncident)
	s.api("POST", "/incidents/{ref}/transitions", incidentAction(s.transitionIncident))
	s.api("POST", "/incidents/{ref}/severity", incidentAction(s.incidentSeverity))
	s.api("PUT", "/incidents/{ref}/roles/{role}", incidentAction(s.incidentRole))
	s.api("POST", "/incidents/{ref}/ack", s.ackIncident)
	s.api("GET", "/incidents/{ref}/timeline", incidentRead(s.incidentTimeline))
	s.api("POST", "/incidents/{ref}/timeline", s.incidentNote)
	s.api("PUT", "/incidents/{ref}/moments/{moment}", incidentAction(s.incidentMoment))
	s.api("GET", "/incidents/{ref}/updates", incidentRead(s.incidentUpdates))
	s.api("POST", "/incidents/{ref}/updates", s.postIncidentUpdate)
	s.api("POST", "/incidents/{ref}/updates/preview", incidentAction(s.previewIncidentUpdate))
	s.api("PUT", "/incidents/{ref}/subscription", s.incidentSubscription(true))
	s.api("DELETE", "/incidents/{ref}/subscription", s.incidentSubscription(false))
	s.api("GET", "/incidents/{ref}/cases", s.incidentCases)
	s.api("POST", "/incidents/{ref}/cases", incidentAction(s.linkIncidentCases))
	s.api("DELETE", "/incidents/{ref}/cases/{case}", s.unlinkIncidentCase)
	s.api("POST", "/incidents/{ref}/resolve-cases", s.bulkResolveIncident)
	s.api("GET", "/incidents/{ref}/resolve-cases", incidentRead(s.incidentBulk))
	s.api("GET", "/incidents/{ref}/report", incidentRead(s.incidentReport))
	s.api("GET", "/cases/{ref}/incidents", incidentRead(s.caseIncidents))
	// postmortems and action items (api_postmortems.go)
	s.api("GET", "/incidents/{ref}/postmortem", s.getPostmortem)
	s.api("POST", "/incidents/{ref}/postmortem", s.startPostmortem)
	s.api("PATCH", "/incidents/{ref}/postmortem", s.editPostmortem)
	s.api("POST", "/incidents/{ref}/postmortem/transitions", s.transitionPostmortem)
	s.api("GET", "/incidents/{ref}/action-items", s.incidentActionItems)
	s.api("POST", "/incidents/{ref}/action-items", s.createActionItem)
	s.api("GET", "/action-items", s.listActionItems)
	s.api("GET", "/action-items/{id}", s.getActionItem)
	s.api("PATCH", "/action-items/{id}", s.updateActionItem)
	// macros (api_macros.go)
	s.api("GET", "/macros", s.listMacros)
	s.api("GET", "/cases/{ref}/macros", s.caseMacros)
	s.api("POST", "/cases/{ref}/macros/{key}/apply", s.applyMacro)
	// merge (api_merge.go) and the account-manager portal (api_portal.go)
	s.api("POST", "/cases/{ref}/merge", s.mergeCase)
	s.api("GET", "/cases/{ref}/merges", s.caseMerges)
	s.api("GET", "/portal/sellers", s.portalSellers)
	s.api("GET", "/portal/requests", s.portalRequests)
	s.api("POST", "/portal/requests", s.raisePortalRequest)
	s.api("GET", "/portal/requests/{ref}", s.getPortalRequest)
	s.api("POST", "/portal/requests/{ref}/replies", s.replyPortalRequest)
	// intake channels (api_intake_channels.go): webhooks and Alertmanager check their own secrets; CSV import (admins)
	s.intakeRoute("/intake/{key}", s.webhookIntake)
	s.intakeRoute("/intake/alertmanager/{key}", s.alertmanagerIntake)
	s.api("POST", "/admin/import/cases", s.importCases)
	// problems (api_problems.go): similar open cases, problem records, the review query; category suggestions
	s.api("GET", "/cases/{ref}/similar", s.similarCases)
	s.api("GET", "/cases/{ref}/suggestion", s.caseSuggestion)
	s.api("POST", "/cases/{ref}/suggestion/accept", s.acceptSuggestion)
	s.api("GET", "/problems", s.listProblems)
	s.api("POST", "/problems", s.createProblem)
	s.api("GET", "/problems/review", s.problemReview)
	s.api("GET", "/problems/{id}", s.getProblem)
	s.api("PATCH", "/problems/{id}", s.updateProblem)
	s.api("POST", "/problems/{id}/cases", s.linkProblemCase)
	s.api("DELETE", "/problems/{id}/cases/{ref}", s.unlinkProblemCase)
	s.liveRoutes() // the live stream and preferences (api_live.go)
	for _, method := range apiMethods {
		m.HandleFunc(method+" /api/", s.apiFallback)
	}

	// Pages (ui.go wraps each with the session and the error page).
	m.Handle("GET /static/", u.staticHandler())
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if a, err := s.actorFrom(r); err == nil && portal.Home(a) {
			http.Redirect(w, r, "/portal", http.StatusSeeOther) // account managers' home (ui_portal.go)
			return
		}
		http.Redirect(w, r, "/cases", http.StatusSeeOther)
	})
	m.HandleFunc("GET /login", u.loginPage)
	m.HandleFunc("POST /login", u.login)
	m.HandleFunc("POST /logout", u.logout)
	// cases (ui_cases.go)
	m.HandleFunc("GET /cases", u.page(u.queue))
	m.HandleFunc("POST /cases/bulk", u.page(u.postBulk)) // ui_list.go: bulk actions and saved views
	m.HandleFunc("POST /cases/views", u.page(u.postView))
	m.HandleFunc("POST /cases/views/{id}/delete", u.page(u.deleteViewPage))
	m.HandleFunc("GET /cases/new", u.page(u.newCasePage))
	m.HandleFunc("POST /cases/new", u.page(u.createCase))
	m.HandleFunc("GET /cases/{ref}", u.page(u.casePage))
	m.HandleFunc("POST /cases/{ref}/comments", u.page(u.postComment))
	m.HandleFunc("POST /cases/{ref}/transitions", u.page(u.postTransition))
	m.HandleFunc("POST /cases/{ref}/update", u.page(u.postUpdate))
	// reports (ui_reports.go)
	m.HandleFunc("GET /reports", u.page(u.reportsPage))
	m.HandleFunc("GET /reports/dashboard", u.page(u.dashboardPage))
	m.HandleFunc("GET /reports/staffing", u.page(u.staffingPage))
	// handoffs (ui_handoffs.go)
	m.HandleFunc("GET /handoffs", u.page(u.handoffQueue))
	m.HandleFunc("GET /handoffs/{id}", u.page(u.handoffPage))
	m.HandleFunc("POST /handoffs/{id}", u.page(u.postHandoffAction))
	m.HandleFunc("POST /cases/{ref}/handoffs", u.page(u.postHandoff))
	m.HandleFunc("GET /cases/{ref}/handoffs", func(w http.ResponseWriter, r *http.Request) {
		// After signing in, a form post comes back as a GET of its address.
		http.Redirect(w, r, caseURL(r, r.PathValue("ref"))+"#handoffs", http.StatusSeeOther)
	})
	// escalation (ui_escalation.go)
	m.HandleFunc("GET /escalations", u.page(u.escalationsPage))
	m.HandleFunc("POST /cases/{ref}/escalations", u.page(u.postEscalate))
	m.HandleFunc("POST /cases/{ref}/escalations/{id}/ack", u.page(u.postAckEscalation))
	m.HandleFunc("POST /cases/{ref}/deescalate", u.page(u.postDeescalate))
	for _, path := range []string{"/cases/{ref}/escalations", "/cases/{ref}/escalations/{id}/ack", "/cases/{ref}/deescalate"} {
		m.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			// After signing in, a form post comes back as a GET of its address.
			http.Redirect(w, r, caseURL(r, r.PathValue("ref"))+"#escalation", http.StatusSeeOther)
		})
	}
	// assignment (ui_assignment.go) and routing (ui_routing.go)
	m.HandleFunc("POST /cases/take-next", u.page(u.takeNext))
	m.HandleFunc("GET /teams/{team}", u.page(u.teamPage))
	m.HandleFunc("POST /teams/{team}/away", u.page(u.postAway))
	m.HandleFunc("GET /routing/explain", u.page(u.explainPage))
	// on-call (ui_oncall.go)
	m.HandleFunc("GET /oncall", u.page(u.oncallPage))
	m.HandleFunc("GET /oncall/{team}", u.page(u.oncallTeamPage))
	m.HandleFunc("POST /oncall/{team}/overrides", u.page(u.postOverride))
	m.HandleFunc("POST /oncall/{team}/overrides/{id}/end", u.page(u.postEndOverride))
	m.HandleFunc("POST /oncall/{team}/feeds", u.page(u.postFeed))
	m.HandleFunc("POST /oncall/{team}/feeds/{id}/revoke", u.page(u.postRevokeFeed))
	m.HandleFunc("GET /oncall/{team}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		// After signing in, a form post comes back as a GET of its address.
		http.Redirect(w, r, "/oncall/"+url.PathEscape(r.PathValue("team")), http.StatusSeeOther)
	})
	// notifications (ui_notify.go): the bell's page and preferences; webhooks (admins)
	m.HandleFunc("GET /notifications", u.page(u.notificationsPage))
	m.HandleFunc("POST /notifications/read", u.page(u.postNotificationsRead))
	m.HandleFunc("POST /notifications/preferences", u.page(u.postNotifyPreferences))
	m.HandleFunc("GET /admin/webhooks", u.page(u.webhooksPage))
	m.HandleFunc("POST /admin/webhooks", u.page(u.postWebhook))
	m.HandleFunc("GET /admin/webhooks/{id}", u.page(u.webhookPage))
	m.HandleFunc("POST /admin/webhooks/{id}", u.page(u.postWebhookAction))
	// signals and alerts (ui_signals.go)
	m.HandleFunc("GET /signals", u.page(u.signalsPage))
	m.HandleFunc("GET /signals/{id}", u.page(u.signalPage))
	m.HandleFunc("GET /alerts", u.page(u.alertsPage))
	m.HandleFunc("POST /alerts/{id}", u.page(u.postAlertAction))
	// incidents (ui_incidents.go): the list and declare form, the command page and its forms
	m.HandleFunc("GET /incidents", u.page(u.incidentsPage))
	m.HandleFunc("POST /incidents", u.page(u.postDeclare))
	m.HandleFunc("GET /incidents/{ref}", u.page(u.incidentPage))
	m.HandleFunc("POST /incidents/{ref}/{action}", u.page(u.postIncident))
	// postmortems (ui_postmortems.go): the command page's postmortem forms, the action items page
	m.HandleFunc("POST /incidents/{ref}/postmortem/{action}", u.page(u.postPostmortem))
	m.HandleFunc("GET /incidents/{ref}/postmortem/{action}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/incidents/"+url.PathEscape(r.PathValue("ref"))+"#postmortem", http.StatusSeeOther)
	})
	m.HandleFunc("GET /action-items", u.page(u.actionItemsPage))
	m.HandleFunc("POST /action-items/{id}", u.page(u.postActionItem))
	m.HandleFunc("GET /incidents/{ref}/{action}", func(w http.ResponseWriter, r *http.Request) {
		// After signing in, a form post comes back as a GET of its address.
		http.Redirect(w, r, "/incidents/"+url.PathEscape(r.PathValue("ref")), http.StatusSeeOther)
	})
	// the account-manager portal (ui_portal.go)
	m.HandleFunc("GET /portal", u.page(u.portalPage))
	m.HandleFunc("GET /portal/new", u.page(u.portalNewPage))
	m.HandleFunc("POST /portal/new", u.page(u.postPortalNew))
	m.HandleFunc("GET /portal/requests/{ref}", u.page(u.portalRequestPage))
	m.HandleFunc("POST /portal/requests/{ref}/reply", u.page(u.postPortalReply))
	m.HandleFunc("GET /portal/requests/{ref}/reply", func(w http.ResponseWriter, r *http.Request) {
		// After signing in, a form post comes back as a GET of its address.
		http.Redirect(w, r, "/portal/requests/"+url.PathEscape(r.PathValue("ref")), http.StatusSeeOther)
	})
	// merge (ui_merge.go)
	m.HandleFunc("POST /cases/{ref}/merge", u.page(u.postMerge))
	m.HandleFunc("GET /cases/{ref}/merge", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, caseURL(r, r.PathValue("ref"))+"#merge", http.StatusSeeOther)
	})
	// CSV import (ui_import.go, admins)
	m.HandleFunc("GET /admin/import", u.page(u.importPage))
	m.HandleFunc("POST /admin/import", u.page(u.postImport))
	// the desk admin page and its what-if (ui_desk.go, admins); the what-if never writes
	m.HandleFunc("GET /admin/desk", u.page(u.deskPage))
	m.HandleFunc("POST /admin/desk/impact", u.page(u.postDeskImpact))
	m.HandleFunc("GET /admin/desk/impact", func(w http.ResponseWriter, r *http.Request) {
		// After signing in, a form post comes back as a GET of its address.
		http.Redirect(w, r, "/admin/desk", http.StatusSeeOther)
	})
	// problems (ui_problems.go): the list, a problem's page, the case page's similar panel and suggestion
	m.HandleFunc("GET /problems", u.page(u.problemsPage))
	m.HandleFunc("POST /problems/new", u.page(u.postNewProblem))
	m.HandleFunc("POST /problems/link", u.page(u.postLinkFromCase))
	m.HandleFunc("GET /problems/{id}", u.page(u.problemPage))
	m.HandleFunc("POST /problems/{id}", u.page(u.postProblem))
	m.HandleFunc("POST /problems/{id}/link", u.page(u.postProblemLink))
	m.HandleFunc("POST /problems/{id}/unlink", u.page(u.postProblemUnlink))
	m.HandleFunc("POST /cases/{ref}/suggestion/accept", u.page(u.postAcceptSuggestion))
	// the case page's edits and macros (ui_casepage.go); a form's address
	// opened again (reload, back) leads to its case, not to a 404
	m.HandleFunc("POST /cases/{ref}/edit", u.page(u.postEdit))
	m.HandleFunc("POST /cases/{ref}/macro", u.page(u.postMacro))
	for _, path := range []string{"/cases/{ref}/edit", "/cases/{ref}/macro", "/cases/{ref}/transitions", "/cases/{ref}/comments", "/cases/{ref}/update"} {
		m.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, caseURL(r, r.PathValue("ref")), http.StatusSeeOther)
		})
	}
	// review packs (ui_reviews.go): the history and one pack
	m.HandleFunc("GET /reports/packs", u.page(u.packsPage))
	m.HandleFunc("GET /reports/packs/{id}", u.page(u.packPage))
	// Anything else a browser asks for gets a friendly 404 page; API clients
	// keep getting problem JSON.
	m.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		u.errorPage(w, r, nil, problem(http.StatusNotFound, "not-found", "Page not found", "There is no page at this address."))
	})
}
