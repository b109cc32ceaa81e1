package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/reports"
)

// The desk admin page: the applied desk document and the what-if of a
// proposed one (reports.Service.Impact). The page never applies anything:
// `PUT /api/v1/desk` and `flare desk apply` do.

// maxWhatIfDays bounds the page's and the API's replay window.
const maxWhatIfDays = 90

// deskData is the desk admin page.
type deskData struct {
	Version  int64
	Current  string // the applied document as YAML
	Proposal string // the pasted proposal, kept in the form
	Days     int
	Errors   []apperr.FieldError
	Error    string
	Impact   *impactView
}

// impactView is an Impact laid out as the CLI prints it: today → proposed.
type impactView struct {
	*reports.Impact
	All   impactRow
	Parts []impactPart // by team, by market
	Moves []impactMove
}

// impactPart is the rows by team or by market.
type impactPart struct {
	Name string
	Rows []impactRow
}

// impactRow is one line of figures; each pair is today, proposed.
type impactRow struct {
	Key                     string
	Cases, Open, Breaches   [2]int
	First, Next, Resolution [2]string
}

type impactMove struct {
	Move  string
	Cases int
}

func (u *ui) deskPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	d, err := u.deskData(r, a)
	if err != nil {
		return err
	}
	d.Days = 30
	d.Proposal = d.Current // a change starts from the applied document
	return u.renderDesk(w, r, a, http.StatusOK, d)
}

// deskData reads the applied document for the page.
func (u *ui) deskData(r *http.Request, a auth.Actor) (deskData, error) {
	if !a.Can(auth.PermDeskWrite) {
		return deskData{}, &apperr.Forbidden{Detail: "only admins can change the desk configuration"}
	}
	cfg, err := u.s.app.Desk.ExportFor(r.Context(), a)
	if err != nil {
		return deskData{}, err
	}
	b, err := desk.Marshal(cfg)
	if err != nil {
		return deskData{}, fmt.Errorf("desk page: %w", err)
	}
	v, err := u.s.app.Desk.Version(r.Context())
	if err != nil {
		return deskData{}, err
	}
	return deskData{Version: v, Current: string(b)}, nil
}

func (u *ui) renderDesk(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, d deskData) error {
	u.render(w, r, status, "desk", view{Me: &a, Title: "Desk", Nav: "desk", Data: d})
	return nil
}

// postDeskImpact runs the what-if of the pasted proposal; it writes nothing.
func (u *ui) postDeskImpact(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	d, err := u.deskData(r, a)
	if err != nil {
		return err
	}
	proposal, err := proposalFromForm(r)
	if err != nil {
		return err
	}
	d.Proposal = proposal
	d.Days = 30
	days, err := whatIfDays(r.PostFormValue("days"))
	if err != nil {
		d.Error = "Days must be a whole number from 1 to 90."
		return u.renderDesk(w, r, a, http.StatusUnprocessableEntity, d)
	}
	d.Days = days
	if strings.TrimSpace(d.Proposal) == "" {
		d.Error = "Paste the proposed desk document or choose its file."
		return u.renderDesk(w, r, a, http.StatusUnprocessableEntity, d)
	}
	im, err := whatIf(u.s, r, a, []byte(d.Proposal), days)
	if err != nil {
		p := toProblem(err)
		if p.Status != http.StatusUnprocessableEntity {
			return err
		}
		d.Errors = p.Errors
		if len(d.Errors) == 0 {
			d.Error = p.Detail
		}
		return u.renderDesk(w, r, a, p.Status, d)
	}
	d.Impact = layoutImpact(im)
	return u.renderDesk(w, r, a, http.StatusOK, d)
}

// proposalFromForm reads the proposal: an uploaded file, else the pasted
// text. The page sends multipart, which the edge's 100,000-character limit
// on form values does not cut short (a desk with its sellers is larger);
// desk's parser applies the input rules to the document.
func proposalFromForm(r *http.Request) (string, error) {
	if mediaType(r.Header.Get("Content-Type")) != "multipart/form-data" {
		if err := r.ParseForm(); err != nil {
			return "", badRequest("Send the form as multipart/form-data.")
		}
		return r.PostFormValue("yaml"), nil
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil { // parts over 1 MiB wait in temporary files
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", err
		}
		return "", badRequest("Send the form as multipart/form-data.")
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	f, _, err := r.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) {
		return r.PostFormValue("yaml"), nil
	}
	if err != nil {
		return "", badRequest("The uploaded file could not be read.")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, desk.MaxDocumentSize+1))
	if err != nil {
		return "", fmt.Errorf("desk page: read the upload: %w", err)
	}
	return string(b), nil
}

// whatIf parses a proposal as PUT /api/v1/desk does and replays it.
func whatIf(s *Server, r *http.Request, a auth.Actor, data []byte, days int) (*reports.Impact, error) {
	proposed, err := s.app.Desk.Proposal(r.Context(), a, data)
	if err != nil {
		return nil, err
	}
	im, err := s.app.Reports.Impact(r.Context(), a, proposed, days)
	if err != nil {
		return nil, fmt.Errorf("desk what-if: %w", err)
	}
	return im, nil
}

// whatIfDays reads the days of a what-if: 30 when not given, 1 to 90.
func whatIfDays(v string) (int, error) {
	if strings.TrimSpace(v) == "" {
		return 30, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > maxWhatIfDays {
		return 0, apperr.InvalidField("days", "must be a whole number from 1 to %d", maxWhatIfDays)
	}
	return n, nil
}

func layoutImpact(im *reports.Impact) *impactView {
	v := &impactView{Impact: im,
		All: pairRow("all", reports.Group{SLA: im.Current.SLA, Breaches: im.Current.Breaches, Cases: im.Cases},
			reports.Group{SLA: im.Proposed.SLA, Breaches: im.Proposed.Breaches, Cases: im.Cases})}
	v.Parts = []impactPart{{"team", pairRows(im.Current.ByTeam, im.Proposed.ByTeam)},
		{"market", pairRows(im.Current.ByMarket, im.Proposed.ByMarket)}}
	for m, n := range im.Moves {
		v.Moves = append(v.Moves, impactMove{Move: m, Cases: n})
	}
	slices.SortFunc(v.Moves, func(a, b impactMove) int { return strings.Compare(a.Move, b.Move) })
	return v
}

func pairRows(cur, next []reports.Group) []impactRow {
	var keys []string
	for _, g := range slices.Concat(cur, next) {
		if !slices.Contains(keys, g.Key) {
			keys = append(keys, g.Key)
		}
	}
	slices.Sort(keys)
	rows := make([]impactRow, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, pairRow(k, groupOf(cur, k), groupOf(next, k)))
	}
	return rows
}

func groupOf(gs []reports.Group, key string) reports.Group {
	for _, g := range gs {
		if g.Key == key {
			return g
		}
	}
	return reports.Group{Key: key}
}

func pairRow(key string, a, b reports.Group) impactRow {
	att := func(s map[string]reports.Share, m string) string {
		if v, ok := s[m]; ok && v.Of > 0 {
			return fmt.Sprintf("%.1f%%", 100*v.Rate)
		}
		return "–"
	}
	sum := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	return impactRow{Key: key,
		Cases: [2]int{a.Cases, b.Cases}, Open: [2]int{a.Open, b.Open}, Breaches: [2]int{sum(a.Breaches), sum(b.Breaches)},
		First:      [2]string{att(a.SLA, "first_response"), att(b.SLA, "first_response")},
		Next:       [2]string{att(a.SLA, "next_response"), att(b.SLA, "next_response")},
		Resolution: [2]string{att(a.SLA, "resolution"), att(b.SLA, "resolution")},
	}
}
