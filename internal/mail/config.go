package mail

import (
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
)

// SettingsKey is mail's section of the desk document: the desk's
// mailboxes, each with the defaults of the cases its mail opens.
//
//	mail:
//	  mailboxes:
//	    - address: escalations@desk.example.com
//	      name: Marketplace Escalations         # the From name of replies
//	      category: payments/payout_failed      # default category of its cases
//	      market: GB                            # default market
//	      language: en                          # default: detected from the text
//	      tags: [email]
//	    - address: "@de.desk.example.com"       # every address at this domain
//	      market: DE
//	      category: logistics/delayed_delivery
//
// Mail to an address that no mailbox names is refused (550). A public
// reply on a case opened by mail is sent from the case's mailbox.
const SettingsKey desk.Key[Settings] = "mail"

// Settings are the desk's mailboxes.
type Settings struct {
	Mailboxes []Mailbox `yaml:"mailboxes" json:"mailboxes"`
}

// Mailbox is one address (or a whole domain, "@example.com") mail comes to.
type Mailbox struct {
	Address  string   `yaml:"address" json:"address"`
	Name     string   `yaml:"name,omitempty" json:"name,omitempty"`
	Category string   `yaml:"category" json:"category"`
	Market   string   `yaml:"market" json:"market"`
	Language string   `yaml:"language,omitempty" json:"language,omitempty"`
	Tags     []string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// Domain reports whether the mailbox takes a whole domain.
func (m Mailbox) Domain() bool { return strings.HasPrefix(m.Address, "@") }

// Find is the mailbox mail to rcpt goes to: an exact address first, then
// a domain.
func (s Settings) Find(rcpt string) (Mailbox, bool) {
	rcpt = strings.ToLower(strings.TrimSpace(rcpt))
	for _, m := range s.Mailboxes {
		if !m.Domain() && m.Address == rcpt {
			return m, true
		}
	}
	if _, dom, ok := strings.Cut(rcpt, "@"); ok {
		for _, m := range s.Mailboxes {
			if m.Domain() && m.Address == "@"+dom {
				return m, true
			}
		}
	}
	return Mailbox{}, false
}

// FromAddress is the address replies of a case that came to rcpt go out
// from: the mailbox's address, or rcpt itself for a domain mailbox.
func (m Mailbox) FromAddress(rcpt string) string {
	if m.Domain() {
		return strings.ToLower(rcpt)
	}
	return m.Address
}

// Sections is mail's part of the desk document, for desk.NewSchema.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[Settings]{
		Key:      SettingsKey,
		Validate: validateSettings,
		Canonical: func(s Settings) Settings {
			out := Settings{Mailboxes: make([]Mailbox, len(s.Mailboxes))}
			for i, m := range s.Mailboxes {
				m.Address = strings.ToLower(strings.TrimSpace(m.Address))
				m.Market = strings.ToUpper(m.Market)
				out.Mailboxes[i] = m
			}
			return out
		},
		Diff: func(prev, next Settings) []string {
			var out []string
			old := map[string]Mailbox{}
			for _, m := range prev.Mailboxes {
				old[m.Address] = m
			}
			seen := map[string]bool{}
			for _, m := range next.Mailboxes {
				seen[m.Address] = true
				p, ok := old[m.Address]
				switch {
				case !ok:
					out = append(out, "mail: mailbox "+m.Address+" added")
				case !equalMailbox(p, m):
					out = append(out, "mail: mailbox "+m.Address+" changed")
				}
			}
			for _, m := range prev.Mailboxes {
				if !seen[m.Address] {
					out = append(out, "mail: mailbox "+m.Address+" removed")
				}
			}
			return out
		},
	}}
}

func equalMailbox(a, b Mailbox) bool {
	return a.Address == b.Address && a.Name == b.Name && a.Category == b.Category && a.Market == b.Market &&
		a.Language == b.Language && slices.Equal(a.Tags, b.Tags)
}

func validateSettings(doc *desk.Config, s Settings) []apperr.FieldError {
	v := &apperr.Invalid{}
	seen := map[string]bool{}
	for i, m := range s.Mailboxes {
		p := "mail.mailboxes[" + strconv.Itoa(i) + "]."
		addr := strings.ToLower(strings.TrimSpace(m.Address))
		switch {
		case addr == "":
			v.Add(p+"address", "is required: the address mail comes to, or @domain for a whole domain")
		case strings.HasPrefix(addr, "@"):
			if dom := addr[1:]; dom == "" || strings.ContainsAny(dom, "@ /:") || !strings.Contains(dom, ".") {
				v.Add(p+"address", "must be an address (name@example.com) or a domain (@example.com)")
			}
		default:
			if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
				v.Add(p+"address", "must be an address (name@example.com) or a domain (@example.com)")
			}
		}
		if seen[addr] {
			v.Add(p+"address", "%s is named twice", addr)
		}
		seen[addr] = true
		input.Check(v, p+"address", input.Email, m.Address)
		input.Check(v, p+"name", input.Name, m.Name)
		if m.Category == "" {
			v.Add(p+"category", "is required: the category of the cases this mailbox opens")
		} else if _, ok := doc.Category(m.Category); !ok {
			v.Add(p+"category", "unknown category %q", m.Category)
		}
		if m.Market == "" {
			v.Add(p+"market", "is required: the market of the cases this mailbox opens")
		} else if !slices.ContainsFunc(doc.Markets, func(mk desk.Market) bool { return strings.EqualFold(mk.Code, m.Market) }) {
			v.Add(p+"market", "unknown market %q", m.Market)
		}
		if m.Language != "" {
			if _, err := input.ParseLanguage(m.Language); err != nil {
				v.Add(p+"language", "is not a language tag")
			}
		}
		for j, t := range m.Tags {
			input.Check(v, p+"tags["+strconv.Itoa(j)+"]", input.Key, t)
		}
	}
	return v.Errors
}
