package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // non-UTF-8 charsets: ISO-8859-*, Windows-125x, …
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"

	"github.com/flare-desk/flare/internal/cases"
)

// Message is a received mail as Flare reads it: pure data, parsed from the
// raw bytes by Parse.
type Message struct {
	MessageID  string   // without angle brackets; "" when the mail has none
	InReplyTo  []string // likewise
	References []string
	From       Address
	To         []string // To and Cc addresses
	ReplyTo    string
	Subject    string // decoded (RFC 2047), one line
	Date       time.Time
	Text       string // the body as clean plain text (HTML turned into text)
	HTMLOnly   bool   // the text came from an HTML part
	Files      []Part // attachments and inline images

	// Ignore, when set, is why the mail opens and answers nothing:
	// auto_reply, bounce, bulk (a list or Precedence: bulk/junk/list).
	Ignore string
	// Token is the case number named in the subject ("ESC-1042"), if any.
	Token string
}

// Address is a mailbox.
type Address struct{ Name, Email string }

// Part is an attachment or an inline image of a message.
type Part struct {
	Name        string
	ContentType string // as the sender declared it
	ContentID   string // without angle brackets (inline images)
	Inline      bool
	Data        []byte
}

// The reasons a mail is ignored.
const (
	IgnoreAutoReply = "auto_reply"
	IgnoreBounce    = "bounce"
	IgnoreBulk      = "bulk"
)

// ParseLimits bound what Parse walks.
type ParseLimits struct {
	MaxParts int // parts of any kind (default 200)
	MaxDepth int // multipart nesting (default 10)
}

func (l ParseLimits) withDefaults() ParseLimits {
	if l.MaxParts <= 0 {
		l.MaxParts = 200
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 10
	}
	return l
}

// ErrMalformed is a mail Flare cannot read (SMTP answers 554).
var ErrMalformed = errors.New("malformed message")

// Caps on the text Flare keeps of a mail (the case's description and a
// comment's limits).
const (
	maxText    = 60_000
	maxSubject = 300
	maxHTML    = 2 << 20 // of an HTML body turned into text
)

// tokenRE finds a case token in a subject: "[ESC-1042]".
var tokenRE = regexp.MustCompile(`\[` + regexp.QuoteMeta(cases.NumberPrefix) + `([0-9]{1,12})\]`)

// Parse reads a raw RFC 5322 message. It never panics; a message whose
// header cannot be read is ErrMalformed, while a broken part is skipped.
func Parse(raw []byte, lim ParseLimits) (m *Message, err error) {
	defer func() {
		if p := recover(); p != nil { // a library's bug must not take the listener down
			m, err = nil, fmt.Errorf("%w: %v", ErrMalformed, p)
		}
	}()
	lim = lim.withDefaults()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && e == nil || err != nil && !message.IsUnknownCharset(err) && !isUnknownEncoding(err) {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	h := gomail.Header{Header: e.Header}
	if h.Len() == 0 {
		return nil, fmt.Errorf("%w: no header", ErrMalformed)
	}
	m = &Message{}
	m.MessageID = messageID(h)
	m.InReplyTo = msgIDs(h, "In-Reply-To")
	m.References = msgIDs(h, "References")
	if as, err := h.AddressList("From"); err == nil && len(as) > 0 {
		m.From = Address{Name: oneLine(as[0].Name, 200), Email: strings.ToLower(as[0].Address)}
	} else if f := h.Get("From"); f != "" { // unparsable: keep what looks like an address
		m.From = Address{Email: strings.ToLower(looseAddress(f))}
	}
	if as, err := h.AddressList("Reply-To"); err == nil && len(as) > 0 {
		m.ReplyTo = strings.ToLower(as[0].Address)
	}
	for _, k := range []string{"To", "Cc"} {
		as, _ := h.AddressList(k)
		for _, a := range as {
			m.To = append(m.To, strings.ToLower(a.Address))
		}
	}
	subject, err := h.Subject()
	if err != nil {
		subject = h.Get("Subject")
	}
	m.Subject = oneLine(subject, maxSubject)
	if tm := tokenRE.FindStringSubmatch(m.Subject); tm != nil {
		m.Token = cases.NumberPrefix + tm[1]
	}
	m.Date, _ = h.Date()
	m.Ignore = verdict(e.Header)

	w := walker{lim: lim}
	w.walk(e, 0)
	if m.Ignore == "" && w.report {
		m.Ignore = IgnoreBounce
	}
	text := w.plain.String()
	if w.html.Len() > maxHTML {
		w.html.Truncate(maxHTML)
	}
	if strings.TrimSpace(text) == "" && w.html.Len() > 0 {
		text, m.HTMLOnly = HTMLText(w.html.String()), true
	}
	m.Text = cleanText(text, maxText)
	m.Files = w.files
	return m, nil
}

func isUnknownEncoding(err error) bool {
	var ue message.UnknownEncodingError
	return errors.As(err, &ue)
}

// verdict says why a mail with header h must not open a case or be
// answered (RFC 3834 and the headers mail programs use), or "".
func verdict(h message.Header) string {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return IgnoreAutoReply
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Autoresponder") != "" ||
		strings.EqualFold(h.Get("X-Auto-Response-Suppress"), "All") && strings.Contains(strings.ToLower(h.Get("X-Mailer")), "autoreply") {
		return IgnoreAutoReply
	}
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp == "<>" {
		return IgnoreBounce
	}
	if t, params, err := h.ContentType(); err == nil && t == "multipart/report" &&
		strings.EqualFold(params["report-type"], "delivery-status") {
		return IgnoreBounce
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return IgnoreBulk
	}
	if h.Get("List-Id") != "" || h.Get("List-Unsubscribe") != "" {
		return IgnoreBulk
	}
	return ""
}

// walker collects a message's text, HTML and files.
type walker struct {
	lim    ParseLimits
	parts  int
	plain  bytes.Buffer
	html   bytes.Buffer
	files  []Part
	report bool // a delivery-status part was seen
}

func (w *walker) walk(e *message.Entity, depth int) {
	w.parts++
	if w.parts > w.lim.MaxParts {
		return
	}
	t, params, err := e.Header.ContentType()
	if err != nil || t == "" {
		t, params = "text/plain", map[string]string{}
	}
	if mr := e.MultipartReader(); mr != nil {
		if depth >= w.lim.MaxDepth {
			return
		}
		if t == "multipart/report" {
			w.report = w.report || strings.EqualFold(params["report-type"], "delivery-status")
		}
		for {
			p, err := mr.NextPart()
			if err != nil && p == nil { // io.EOF or a broken part: stop here
				return
			}
			w.walk(p, depth+1)
			if w.parts > w.lim.MaxParts {
				return
			}
		}
	}
	if t == "message/delivery-status" || t == "message/global-delivery-status" {
		w.report = true
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = decodeWord(name)
	cid := strings.Trim(strings.TrimSpace(e.Header.Get("Content-Id")), "<>")
	data, err := io.ReadAll(io.LimitReader(e.Body, 64<<20))
	if err != nil && len(data) == 0 {
		return
	}
	isText := t == "text/plain" || t == "text/html"
	if isText && disp != "attachment" && name == "" {
		s := toUTF8(data, params["charset"])
		if t == "text/html" {
			w.html.WriteString(s)
		} else {
			if w.plain.Len() > 0 {
				w.plain.WriteString("\n\n")
			}
			w.plain.WriteString(s)
		}
		return
	}
	if name == "" {
		if exts, _ := mime.ExtensionsByType(t); len(exts) > 0 {
			name = "part" + exts[0]
		} else {
			name = "part"
		}
	}
	inline := disp == "inline" || disp == "" && cid != "" && strings.HasPrefix(t, "image/")
	w.files = append(w.files, Part{Name: name, ContentType: mime.FormatMediaType(t, nil), ContentID: cid, Inline: inline, Data: data})
}

// toUTF8 makes a text part's bytes UTF-8: go-message decoded declared
// charsets already; undeclared or unknown 8-bit text is read as
// Windows-1252 (a superset of ISO-8859-1), the most common such mail.
func toUTF8(b []byte, _ string) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if s, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
		return string(s)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// decodeWord decodes RFC 2047 encoded words in a parameter (file names).
func decodeWord(s string) string {
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

func messageID(h gomail.Header) string {
	if id, err := h.MessageID(); err == nil && id != "" {
		return normID(id)
	}
	ids := looseIDs(h.Get("Message-Id"))
	if len(ids) > 0 {
		return ids[0]
	}
	return ""
}

func msgIDs(h gomail.Header, key string) []string {
	if ids, err := h.MsgIDList(key); err == nil && len(ids) > 0 {
		out := make([]string, 0, len(ids))
		for _, id := range ids {
			if id = normID(id); id != "" {
				out = append(out, id)
			}
		}
		return out
	}
	return looseIDs(h.Get(key))
}

var looseIDRE = regexp.MustCompile(`<([^<>\s]{1,500})>`)

// looseIDs reads message ids from a header that does not follow RFC 5322.
func looseIDs(v string) []string {
	var out []string
	for _, m := range looseIDRE.FindAllStringSubmatch(v, 50) {
		if id := normID(m[1]); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// normID is a message id as Flare keeps it: no brackets, no spaces, at
// most 500 bytes, valid printable ASCII ("" otherwise).
func normID(id string) string {
	id = strings.TrimSpace(strings.Trim(strings.TrimSpace(id), "<>"))
	if id == "" || len(id) > 500 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] >= 0x7f {
			return ""
		}
	}
	return id
}

var looseAddrRE = regexp.MustCompile(`[^\s<>"]+@[^\s<>"]+`)

func looseAddress(v string) string { return looseAddrRE.FindString(v) }

// oneLine makes s one clean line of at most max characters.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidi(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))), " ")
	return truncate(s, max)
}

// cleanText makes s text the input rules accept: valid UTF-8, LF line
// ends, no control characters but newline and tab, no bidirectional
// formatting characters, no trailing spaces, at most three blank lines in
// a row, at most max characters.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\u00a0':
			return ' '
		case unicode.IsControl(r) || isBidi(r) || r == '\ufeff':
			return -1
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 2 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return truncate(strings.TrimSpace(strings.Join(out, "\n")), max)
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// quoteStart matches the line mail programs put above a quoted reply.
var quoteStart = regexp.MustCompile(`(?m)^(On .{1,300} wrote:|Am .{1,300} schrieb .{1,200}:|Le .{1,300} a écrit :|-----\s?Original Message\s?-----)\s*$`)

// StripQuoted removes the quoted earlier messages from a reply's text:
// everything from the first "On … wrote:" line (or the like), and
// trailing lines that start with ">". What is left is what the sender
// wrote; a reply that is only a quote is kept whole.
func StripQuoted(s string) string {
	out := s
	if loc := quoteStart.FindStringIndex(out); loc != nil {
		out = out[:loc[0]]
	}
	lines := strings.Split(strings.TrimRight(out, "\n "), "\n")
	for len(lines) > 0 && (strings.HasPrefix(strings.TrimSpace(lines[len(lines)-1]), ">") || strings.TrimSpace(lines[len(lines)-1]) == "") {
		lines = lines[:len(lines)-1]
	}
	out = strings.TrimSpace(strings.Join(lines, "\n"))
	if out == "" {
		return s
	}
	return out
}
