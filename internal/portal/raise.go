package portal

import (
	"context"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/input"
)

// Urgency is how urgent the requester says a request is. It does not set
// the case's priority — the desk's priority score and routing rules do —
// but it is on the case as the tag "urgency:<level>" (none for normal), so
// routing rules can act on it ({when: {tags: [urgency:critical]}, then:
// {priority: {raise: 1}}}) and agents see it.
type Urgency string

const (
	UrgencyNormal   Urgency = "normal"
	UrgencyHigh     Urgency = "high"     // the seller is losing sales or customers
	UrgencyCritical Urgency = "critical" // the seller's business is stopped, or safety or the law is at stake
)

// Urgencies lists the urgencies, least urgent first.
var Urgencies = []Urgency{UrgencyNormal, UrgencyHigh, UrgencyCritical}

const urgencyTag = "urgency:"

// Tag is the case tag of u ("" for normal).
func (u Urgency) Tag() string {
	if u == UrgencyNormal || u == "" {
		return ""
	}
	return urgencyTag + string(u)
}

// UrgencyOf reads the urgency from a case's tags.
func UrgencyOf(tags []string) Urgency {
	for _, t := range tags {
		if u := Urgency(strings.TrimPrefix(t, urgencyTag)); strings.HasPrefix(t, urgencyTag) && slices.Contains(Urgencies, u) {
			return u
		}
	}
	return UrgencyNormal
}

// RaiseInput is a request raised in the portal (POST /portal/requests).
type RaiseInput struct {
	SellerID    string         `json:"seller_id"`
	Category    string         `json:"category"`
	Urgency     Urgency        `json:"urgency"` // default normal
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Fields      map[string]any `json:"fields"`
	// Token makes the request idempotent: the form's hidden token (or the
	// API's Idempotency-Key) — a second submit with the same token returns
	// the case the first one opened instead of opening another.
	Token string `json:"token"`
	// Files are attached to the case (the form's files; the API takes
	// them afterwards through POST /cases/{ref}/attachments).
	Files []attachments.Upload `json:"-"`
}

// Raised is what raising a request answers.
type Raised struct {
	Request  *Request `json:"request"`
	Outcome  string   `json:"outcome"`             // created, duplicate (the token was seen: the earlier case), repeat_linked, appended
	RepeatOf string   `json:"repeat_of,omitempty"` // the open case this request repeats, if any
}

// Submission is a validated request, handed to the Submitter (intake).
type Submission struct {
	Case  cases.CreateInput
	Token string
	// Then runs in the transaction that opens the case (intake's Then):
	// the request's files.
	Then func(ctx context.Context, tx *db.Tx, c *cases.Case) error
}

// Submitted is what the Submitter answers.
type Submitted struct {
	Case     *cases.Case
	Outcome  string
	RepeatOf string
}

// How the portal's requests reach intake.
const (
	Channel   cases.Channel = "internal" // internal requesters: account managers, leadership
	SourceKey               = "portal"
)

// Submitter opens the case through intake (wired in internal/app):
// channel "internal", key "portal", the token as the external id.
type Submitter func(ctx context.Context, a auth.Actor, sub Submission) (*Submitted, error)

// Raise raises a request for one of the requester's own sellers.
func (s *Service) Raise(ctx context.Context, a auth.Actor, in RaiseInput) (*Raised, error) {
	if err := s.check(a); err != nil {
		return nil, err
	}
	sub, err := s.validate(ctx, a, in)
	if err != nil {
		return nil, err
	}
	out, err := s.submit(ctx, a, sub)
	if err != nil {
		return nil, err
	}
	r, err := s.Get(ctx, a, out.Case.Number)
	if err != nil {
		return nil, err
	}
	return &Raised{Request: r, Outcome: out.Outcome, RepeatOf: out.RepeatOf}, nil
}

// validate checks a request before anything is written: the seller must be
// one of the requester's own (422 on seller_id otherwise, naming none of
// the others), the category the desk's; the case's own rules (fields,
// lengths) are checked by cases as it is prepared.
func (s *Service) validate(ctx context.Context, a auth.Actor, in RaiseInput) (Submission, error) {
	v := &apperr.Invalid{}
	sellers, err := s.Sellers(ctx, a)
	if err != nil {
		return Submission{}, err
	}
	sellerID := strings.TrimSpace(in.SellerID)
	var market string
	if sellerID == "" {
		v.Add("seller_id", "choose one of your sellers")
	} else if i := slices.IndexFunc(sellers, func(x Seller) bool { return strings.EqualFold(x.ID, sellerID) }); i < 0 {
		v.Add("seller_id", "%q is not one of your sellers", sellerID)
	} else {
		sellerID, market = sellers[i].ID, sellers[i].Market
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return Submission{}, err
	}
	if in.Category == "" {
		v.Add("category", "choose a category")
	} else if _, ok := cfg.Category(in.Category); !ok {
		v.Add("category", "unknown category %q", in.Category)
	}
	u := in.Urgency
	if u == "" {
		u = UrgencyNormal
	}
	if !slices.Contains(Urgencies, u) {
		v.Add("urgency", "one of normal, high, critical")
	}
	token := strings.TrimSpace(in.Token)
	if token != "" {
		input.Check(v, "token", input.Key, token)
	}
	if err := v.Err(); err != nil {
		return Submission{}, err
	}
	ci := cases.CreateInput{Title: in.Title, Description: in.Description, Category: in.Category, Market: market,
		Channel: Channel, SellerID: sellerID, Requester: &cases.Requester{Name: a.Name, Email: a.Email}, Fields: in.Fields}
	if tag := u.Tag(); tag != "" {
		ci.Tags = []string{tag}
	}
	sub := Submission{Case: ci, Token: token}
	if len(in.Files) > 0 {
		files := make([]*attachments.File, 0, len(in.Files))
		for _, up := range in.Files {
			f, err := s.files.Prepare(ctx, up.Name, up.DeclaredType, up.R)
			if err != nil {
				return Submission{}, err
			}
			files = append(files, f)
		}
		if err := s.files.CheckMessage(files); err != nil {
			return Submission{}, err
		}
		sub.Then = func(ctx context.Context, tx *db.Tx, c *cases.Case) error {
			saved, err := s.files.SaveAll(ctx, tx, attachments.Where{CaseID: c.ID, Source: "portal", By: a.UserID}, files)
			if err != nil {
				return err
			}
			entries := make([]cases.Entry, len(saved))
			for i, f := range saved {
				entries[i] = attachments.Entry(f)
			}
			return s.cases.AddEntries(ctx, tx, a, c.ID, s.clock.Now(), entries)
		}
	}
	return sub, nil
}
