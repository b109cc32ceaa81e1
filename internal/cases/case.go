package cases

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/assign"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/desk"
)

// NumberPrefix starts every human case number (ESC-1042).
const NumberPrefix = "ESC-"

// FormatNumber turns a case's sequence number into its human number.
func FormatNumber(n int64) string { return NumberPrefix + strconv.FormatInt(n, 10) }

// ParseNumber reads "ESC-1042" (any case) and returns 1042.
func ParseNumber(s string) (int64, bool) {
	if len(s) <= len(NumberPrefix) || !strings.EqualFold(s[:len(NumberPrefix)], NumberPrefix) {
		return 0, false
	}
	n, err := strconv.ParseInt(s[len(NumberPrefix):], 10, 64)
	return n, err == nil && n > 0
}

// Requester is who raised the case.
type Requester struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Reason is one factor behind a case's priority.
type Reason struct {
	Factor string `json:"factor"`
	Detail string `json:"detail"`
	Points int    `json:"points"`
}

// Case is one issue to own and resolve.
type Case struct {
	ID              int64          `json:"id"`
	Number          string         `json:"number"`
	Title           string         `json:"title"`
	Description     string         `json:"description"`
	Category        string         `json:"category"`
	Channel         Channel        `json:"channel"`
	Market          string         `json:"market"`
	Language        string         `json:"language"`
	SellerID        *string        `json:"seller_id"`
	Requester       Requester      `json:"requester"`
	Priority        string         `json:"priority"`
	PriorityReasons []Reason       `json:"priority_reasons"`
	HighRisk        bool           `json:"high_risk"`
	Sensitivity     string         `json:"sensitivity"`
	Status          Status         `json:"status"`
	Owner           *string        `json:"owner"` // the owner's email
	OwnerName       string         `json:"owner_name,omitempty"`
	Team            string         `json:"team"`
	EscalationLevel int            `json:"escalation_level"`
	Tags            []string       `json:"tags"`
	Fields          map[string]any `json:"fields"`
	Watchers        []string       `json:"watchers,omitempty"`
	Resolution      string         `json:"resolution,omitempty"`
	ResolutionNote  string         `json:"resolution_note,omitempty"`
	ReopenCount     int            `json:"reopen_count"`
	RepeatContacts  int            `json:"repeat_contacts"` // later contacts linked to it as repeats (internal/intake)
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	Version         int64          `json:"version"` // one more with every saved change (update.go: optimistic concurrency)
	FirstResponseAt *time.Time     `json:"first_response_at"`
	ResolvedAt      *time.Time     `json:"resolved_at"`
	ClosedAt        *time.Time     `json:"closed_at"`

	OwnerID   int64 `json:"-"`
	CreatedBy int64 `json:"-"`

	// SLAPolicy is the SLA policy a routing rule chose; empty: the first
	// policy whose match fits.
	SLAPolicy string `json:"sla_policy,omitempty"`
	// SLA is the case's clocks, filled in by Get and List.
	SLA []Clock `json:"sla"`

	sellerTier int             // known while the case is being created
	seller     *desk.Seller    // likewise
	slaStored  []storedClock   // the clocks as stored on the row (see sla.go)
	slaDueAt   time.Time       // the next deadline
	dueSort    time.Time       // the earliest due instant of its running clocks (queue order)
	slaHits    []slaHit        // warnings and breaches found while preparing
	assignVia  assign.Strategy // assign on create by this strategy ("" = leave unassigned)
	created    *assessment     // the score and routing outcome on create
	auditAfter audit.Canonical
}

// Age is how long the case has existed at now.
func (c *Case) Age(now time.Time) time.Duration { return now.Sub(c.CreatedAt) }

// CreateInput is the body of POST /cases.
type CreateInput struct {
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Category    string         `json:"category"`
	Market      string         `json:"market"`
	Channel     Channel        `json:"channel"`
	Language    string         `json:"language"`
	SellerID    string         `json:"seller_id"`
	Requester   *Requester     `json:"requester"`
	Tags        []string       `json:"tags"`
	HighRisk    bool           `json:"high_risk"`
	Sensitivity string         `json:"sensitivity"`
	Fields      map[string]any `json:"fields"`

	// At backdates the case for imports and the demo desk (system actor only).
	At time.Time `json:"-"`
	// FieldsLater lets required custom fields be missing: a sender outside
	// the desk (a mail, a webhook) cannot know them; the desk fills them in.
	FieldsLater bool `json:"-"`
}

// UpdateInput is the body of PATCH /cases/{id}: only given fields change.
// An empty string clears seller_id and owner.
type UpdateInput struct {
	Title           *string        `json:"title"`
	Description     *string        `json:"description"`
	Category        *string        `json:"category"`
	Market          *string        `json:"market"`
	Language        *string        `json:"language"`
	SellerID        *string        `json:"seller_id"`
	Requester       *Requester     `json:"requester"`
	Tags            *[]string      `json:"tags"`
	HighRisk        *bool          `json:"high_risk"`
	Sensitivity     *string        `json:"sensitivity"`
	Team            *string        `json:"team"`
	Owner           *string        `json:"owner"`
	Priority        *string        `json:"priority"`
	PriorityReason  *string        `json:"priority_reason"`
	EscalationLevel *int           `json:"escalation_level"`
	Fields          map[string]any `json:"fields"`
	Watchers        *[]string      `json:"watchers"`
	// Version, when set, is the version the change was made against: a
	// case changed since is refused (409). The API takes it from If-Match.
	Version *int64 `json:"version"`
}

// TransitionInput is the body of POST /cases/{id}/transitions.
type TransitionInput struct {
	To         Status `json:"to"`
	Resolution string `json:"resolution"`
	Note       string `json:"note"`
	// Reply is a public reply sent in the same change, before the move (for
	// capabilities that answer and move many cases: incidents' bulk
	// resolve); not part of the API's body.
	Reply string `json:"-"`
	// Version, when set, is the case version the move was chosen against
	// (the case page's form): a case changed since is refused (409).
	Version *int64 `json:"-"`
}

// CommentInput is the body of POST /cases/{id}/comments.
type CommentInput struct {
	Body     string `json:"body"`
	Internal bool   `json:"internal"`
	// From is the requester who wrote it, outside Flare (a mail, a
	// partner's message); set by intake, never by the API.
	From *Requester `json:"-"`
}

// Comment is a public reply or an internal note.
type Comment struct {
	ID        int64      `json:"id"`
	CaseID    int64      `json:"case_id"`
	Author    *string    `json:"author"`
	Body      string     `json:"body"`
	BodyHTML  string     `json:"body_html"`
	Internal  bool       `json:"internal"`
	From      *Requester `json:"from,omitempty"` // the requester who wrote it outside Flare
	CreatedAt time.Time  `json:"created_at"`
}

// Event is one entry on a case's timeline.
type Event struct {
	ID        int64          `json:"id"`
	Type      string         `json:"type"`
	Actor     *string        `json:"actor"` // email; null for Flare itself
	ActorName string         `json:"actor_name,omitempty"`
	At        time.Time      `json:"at"`
	Data      map[string]any `json:"data"`
}

// Change is one field's old → new value on an "updated" event.
type Change struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

func (c Change) String() string { return fmt.Sprintf("%s: %v → %v", c.Field, c.Old, c.New) }
