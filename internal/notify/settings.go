package notify

import (
	"net/mail"
	"net/url"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
)

// SettingsKey is notify's section of the desk document:
//
//	notifications:
//	  base_url: https://flare.example.com   # links in mails and chat messages
//	  email:
//	    smtp_host: smtp.example.com
//	    smtp_port: 587                      # default: 587 (starttls), 465 (tls), 25 (none)
//	    security: starttls                  # starttls (default) | tls | none
//	    username: flare@example.com         # the password is FLARE_SMTP_PASSWORD, never here
//	    from: "Flare <flare@example.com>"
//
// Without an email part no mail is sent (people still get in-app
// notifications and webhooks still go out). The SMTP password is a secret
// and the desk document is exported, audited and shown to admins: it is
// read from the environment of the server only.
const SettingsKey desk.Key[Settings] = "notifications"

// Settings are the desk-wide notification settings.
type Settings struct {
	BaseURL string        `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	Email   EmailSettings `yaml:"email,omitempty" json:"email,omitzero"`
}

// Mail reports whether email is set up.
func (s Settings) Mail() bool { return s.Email != (EmailSettings{}) }

// EmailSettings is the SMTP server mail goes through.
type EmailSettings struct {
	Host     string `yaml:"smtp_host" json:"smtp_host"`
	Port     int    `yaml:"smtp_port,omitempty" json:"smtp_port,omitempty"`
	Security string `yaml:"security,omitempty" json:"security,omitempty"`
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	From     string `yaml:"from" json:"from"`
	HELO     string `yaml:"helo,omitempty" json:"helo,omitempty"` // the name Flare greets the server with; default: the host's
}

// How the SMTP connection is protected.
const (
	SecuritySTARTTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	SecurityTLS      = "tls"      // TLS from the first byte ("SMTPS", usually port 465)
	SecurityNone     = "none"     // no TLS (a relay on localhost)
)

// PasswordEnv is the environment variable the SMTP password is read from.
const PasswordEnv = "FLARE_SMTP_PASSWORD"

func (e EmailSettings) security() string {
	if e.Security == "" {
		return SecuritySTARTTLS
	}
	return e.Security
}

func (e EmailSettings) port() int {
	if e.Port != 0 {
		return e.Port
	}
	switch e.security() {
	case SecurityTLS:
		return 465
	case SecurityNone:
		return 25
	}
	return 587
}

// Sections is notify's part of the desk document, for desk.NewSchema.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[Settings]{
		Key:      SettingsKey,
		Validate: func(_ *desk.Config, s Settings) []apperr.FieldError { return validateSettings(s) },
		Canonical: func(s Settings) Settings {
			s.BaseURL = strings.TrimRight(s.BaseURL, "/")
			s.Email.Host, s.Email.Security = strings.ToLower(s.Email.Host), strings.ToLower(s.Email.Security)
			return s
		},
		Diff: func(prev, next Settings) []string {
			return desk.DiffFields("notifications", "base_url", prev.BaseURL, next.BaseURL, "email", prev.Email, next.Email)
		},
	}}
}

func validateSettings(s Settings) []apperr.FieldError {
	v := &apperr.Invalid{}
	const p = "notifications."
	if s.BaseURL != "" {
		u, err := url.Parse(s.BaseURL)
		if input.Check(v, p+"base_url", input.Param, s.BaseURL) &&
			(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil) {
			v.Add(p+"base_url", "must be Flare's address, http:// or https:// with a host and no query")
		}
	}
	if e := s.Email; s.Mail() {
		switch {
		case strings.TrimSpace(e.Host) == "":
			v.Add(p+"email.smtp_host", "is required: the SMTP server mail goes through")
		case strings.ContainsAny(e.Host, " /:@") || !input.Check(v, p+"email.smtp_host", input.Key, e.Host):
			v.Add(p+"email.smtp_host", "must be a host name or address, without a port (that is smtp_port)")
		}
		if e.Port < 0 || e.Port > 65535 {
			v.Add(p+"email.smtp_port", "must be a TCP port, 1 to 65535")
		}
		switch strings.ToLower(e.Security) {
		case "", SecuritySTARTTLS, SecurityTLS, SecurityNone:
		default:
			v.Add(p+"email.security", "must be starttls, tls or none")
		}
		input.Check(v, p+"email.username", input.Email, e.Username)
		if a, err := mail.ParseAddress(e.From); strings.TrimSpace(e.From) == "" {
			v.Add(p+"email.from", "is required: the sender of Flare's mail, such as \"Flare <flare@example.com>\"")
		} else if err != nil || !strings.Contains(a.Address, "@") {
			v.Add(p+"email.from", "is not an email address")
		}
		if e.HELO != "" {
			input.Check(v, p+"email.helo", input.Key, e.HELO)
		}
	}
	return v.Errors
}
