// Package attachments keeps the files on a case: a requester's mail
// attachments and inline images, the portal's uploads and an agent's.
//
// A file is taken in two steps, because a transaction's callback may run
// more than once and must not read a stream:
//
//  1. Prepare (before the transaction) reads the file once, enforces the
//     size limit, hashes it (SHA-256), sniffs its type with
//     http.DetectContentType (the sender's declared type is never trusted
//     alone), checks the allowed and blocked types, and — when it is larger
//     than Limits.InlineMax and a directory is configured — writes it to
//     the directory under its hash (content-addressed: the same bytes are
//     stored once, and writing them again is harmless).
//  2. Save (inside the transaction) adds the row that names the case, the
//     comment if any, the file's name, type, size and hash, and the bytes
//     themselves when they are small.
//
// Reading goes through the case's visibility: whoever may see the case
// sees its attachments, except that account managers (cases.PublicOnly)
// never see internal ones. Files are always served as downloads
// (Content-Disposition: attachment, X-Content-Type-Options: nosniff), and
// types a browser would render as active content (HTML, SVG, XML,
// JavaScript) are served as application/octet-stream.
package attachments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
)

// Limits bound what is accepted.
type Limits struct {
	MaxFile    int64 // bytes of one file (default 10 MiB)
	MaxMessage int64 // bytes of all the files of one message or upload (default 25 MiB)
	MaxFiles   int   // files in one message (default 20)
	// InlineMax: files up to this size are kept in the database, larger
	// ones on disk when a directory is configured (default 256 KiB).
	InlineMax int64
	// Allowed, when not empty, lists the only content types accepted
	// ("image/*" matches every image); Blocked lists types refused. Both
	// are checked against the sniffed and the declared type.
	Allowed []string
	Blocked []string
	// BlockedExtensions are file name extensions refused (".exe").
	BlockedExtensions []string
}

// DefaultLimits are the limits when none are configured.
func DefaultLimits() Limits {
	return Limits{MaxFile: 10 << 20, MaxMessage: 25 << 20, MaxFiles: 20, InlineMax: 256 << 10,
		Blocked: []string{"application/x-msdownload", "application/x-msdos-program", "application/x-dosexec",
			"application/x-executable", "application/x-sh", "application/java-archive", "application/vnd.microsoft.portable-executable"},
		BlockedExtensions: []string{".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".vbs", ".js", ".jse", ".wsf", ".ps1", ".jar", ".dll", ".cpl", ".hta", ".lnk"}}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFile <= 0 {
		l.MaxFile = d.MaxFile
	}
	if l.MaxMessage <= 0 {
		l.MaxMessage = d.MaxMessage
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.InlineMax <= 0 {
		l.InlineMax = d.InlineMax
	}
	if l.Blocked == nil {
		l.Blocked = d.Blocked
	}
	if l.BlockedExtensions == nil {
		l.BlockedExtensions = d.BlockedExtensions
	}
	return l
}

// Options configure the service.
type Options struct {
	// Dir is where files larger than Limits.InlineMax are written; empty:
	// every file is kept in the database.
	Dir    string
	Limits Limits
}

// Service stores and reads attachments.
type Service struct {
	db     *db.DB
	cases  *cases.Service
	clock  clock.Clock
	dir    string
	limits Limits
}

// New returns the attachments service.
func New(d *db.DB, cs *cases.Service, c clock.Clock, opt Options) *Service {
	return &Service{db: d, cases: cs, clock: c, dir: opt.Dir, limits: opt.Limits.withDefaults()}
}

// Configure sets the directory and limits (before the service is used).
func (s *Service) Configure(opt Options) {
	s.dir, s.limits = opt.Dir, opt.Limits.withDefaults()
}

// Limits are the limits in force.
func (s *Service) Limits() Limits { return s.limits }

// Attachment is one stored file.
type Attachment struct {
	ID           int64     `json:"id"`
	CaseID       int64     `json:"case_id"`
	CommentID    *int64    `json:"comment_id"`
	Filename     string    `json:"filename"`
	ContentType  string    `json:"content_type"`
	DeclaredType string    `json:"declared_type,omitempty"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	Inline       bool      `json:"inline"`
	ContentID    string    `json:"content_id,omitempty"`
	Internal     bool      `json:"internal"`
	Source       string    `json:"source"`
	CreatedAt    time.Time `json:"created_at"`
	URL          string    `json:"url"` // GET it here

	stored string
}

// File is a prepared file, checked and hashed, ready to Save.
type File struct {
	Name         string
	ContentType  string // sniffed and allowed
	DeclaredType string
	Size         int64
	SHA256       string
	Inline       bool   // an inline image of a mail
	ContentID    string // without angle brackets
	data         []byte // kept when small (or when there is no directory)
	onDisk       bool
}

// Rejected is a file refused by the limits: too big, too many, or of a
// blocked type. It is an apperr.Invalid for HTTP and says why for mail.
type Rejected struct {
	Name   string
	Reason string
	TooBig bool
}

func (e *Rejected) Error() string { return fmt.Sprintf("attachment %q: %s", e.Name, e.Reason) }

// Unwrap makes a rejection a 4xx problem.
func (e *Rejected) Unwrap() error {
	v := &apperr.Invalid{}
	v.Add("file", "%s", e.Error())
	return v
}

// Prepare reads one file from r, checks it against the limits, hashes and
// sniffs it and, when it is large, writes it to the directory. Call it
// before the transaction; Save the result inside.
func (s *Service) Prepare(ctx context.Context, name, declaredType string, r io.Reader) (*File, error) {
	name = CleanName(name)
	l := s.limits
	data, err := io.ReadAll(io.LimitReader(r, l.MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read attachment %q: %w", name, err)
	}
	if int64(len(data)) > l.MaxFile {
		return nil, &Rejected{Name: name, Reason: fmt.Sprintf("larger than %s", HumanSize(l.MaxFile)), TooBig: true}
	}
	f := &File{Name: name, DeclaredType: normType(declaredType), Size: int64(len(data))}
	f.ContentType = Sniff(data, f.DeclaredType, name)
	if reason := l.refuse(f.ContentType, f.DeclaredType, name); reason != "" {
		return nil, &Rejected{Name: name, Reason: reason}
	}
	sum := sha256.Sum256(data)
	f.SHA256 = hex.EncodeToString(sum[:])
	if s.dir == "" || f.Size <= l.InlineMax {
		f.data = data
		return f, nil
	}
	if err := s.writeFile(f.SHA256, data); err != nil {
		return nil, err
	}
	f.onDisk = true
	return f, nil
}

// CheckMessage checks the files of one message together: their count and
// total size.
func (s *Service) CheckMessage(files []*File) error {
	var total int64
	for _, f := range files {
		total += f.Size
	}
	switch {
	case len(files) > s.limits.MaxFiles:
		return &Rejected{Name: files[s.limits.MaxFiles].Name, Reason: fmt.Sprintf("more than %d files", s.limits.MaxFiles)}
	case total > s.limits.MaxMessage:
		return &Rejected{Name: files[len(files)-1].Name, Reason: fmt.Sprintf("files larger than %s together", HumanSize(s.limits.MaxMessage)), TooBig: true}
	}
	return nil
}

// path is where the file with hash sum lives: dir/ab/cd/abcd….
func (s *Service) path(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum[2:4], sum)
}

// writeFile writes data under its hash unless it is there already: to a
// temporary file first, synced, then renamed, so that a file under a hash
// always holds all its bytes.
func (s *Service) writeFile(sum string, data []byte) error {
	p := s.path(sum)
	if st, err := os.Stat(p); err == nil && st.Size() == int64(len(data)) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("attachments directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("attachment file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write attachment file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync attachment file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close attachment file: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("store attachment file: %w", err)
	}
	return nil
}

// Where names what an attachment belongs to and who added it.
type Where struct {
	CaseID    int64
	CommentID int64  // 0: the case itself
	Internal  bool   // the desk's side only
	Source    string // email | upload | portal
	By        int64  // the user who added it (0: a requester from outside)
}

// Save adds f to the case inside tx; it may run more than once (the
// transaction's retry) and reads nothing but f.
func (s *Service) Save(ctx context.Context, tx *db.Tx, w Where, f *File) (*Attachment, error) {
	now := s.clock.Now()
	a := &Attachment{CaseID: w.CaseID, Filename: f.Name, ContentType: f.ContentType, DeclaredType: f.DeclaredType,
		Size: f.Size, SHA256: f.SHA256, Inline: f.Inline, ContentID: f.ContentID, Internal: w.Internal,
		Source: w.Source, CreatedAt: now, stored: "db"}
	var content any = f.data
	if f.onDisk {
		a.stored, content = "disk", nil
	} else if f.data == nil {
		content = []byte{}
	}
	if w.CommentID != 0 {
		a.CommentID = &w.CommentID
	}
	err := tx.QueryRow(ctx, `INSERT INTO attachments (case_id, comment_id, filename, content_type, declared_type, size,
		sha256, stored, content, inline, content_id, internal, source, uploaded_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		w.CaseID, db.NullID(w.CommentID), a.Filename, a.ContentType, a.DeclaredType, a.Size, a.SHA256, a.stored,
		content, a.Inline, a.ContentID, a.Internal, a.Source, db.NullID(w.By), db.T(now)).Scan(&a.ID)
	if err != nil {
		return nil, fmt.Errorf("insert attachment: %w", err)
	}
	a.URL = downloadURL(a.ID)
	return a, nil
}

// SaveAll saves files in order.
func (s *Service) SaveAll(ctx context.Context, tx *db.Tx, w Where, files []*File) ([]*Attachment, error) {
	out := make([]*Attachment, 0, len(files))
	for _, f := range files {
		a, err := s.Save(ctx, tx, w, f)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func downloadURL(id int64) string { return "/api/v1/attachments/" + strconv.FormatInt(id, 10) }

const columns = `id, case_id, comment_id, filename, content_type, declared_type, size, sha256, stored, inline,
	content_id, internal, source, created_at FROM attachments`

func scan(r db.Scanner) (*Attachment, error) {
	var (
		a       Attachment
		comment sql.NullInt64
		at      db.Time
	)
	if err := r.Scan(&a.ID, &a.CaseID, &comment, &a.Filename, &a.ContentType, &a.DeclaredType, &a.Size, &a.SHA256,
		&a.stored, &a.Inline, &a.ContentID, &a.Internal, &a.Source, &at); err != nil {
		return nil, err
	}
	if comment.Valid {
		a.CommentID = &comment.Int64
	}
	a.CreatedAt = at.Time
	a.URL = downloadURL(a.ID)
	return &a, nil
}

// List returns the attachments of case ref that actor may see, oldest first.
func (s *Service) List(ctx context.Context, actor auth.Actor, ref string) ([]*Attachment, error) {
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return s.ForCase(ctx, c.ID, cases.PublicOnly(actor))
}

// ForCase returns case caseID's attachments without asking who may see
// them (the caller has): publicOnly leaves out the internal ones.
func (s *Service) ForCase(ctx context.Context, caseID int64, publicOnly bool) ([]*Attachment, error) {
	q := `SELECT ` + columns + ` WHERE case_id = ?`
	if publicOnly {
		q += ` AND internal = ?`
	}
	args := []any{caseID}
	if publicOnly {
		args = append(args, false)
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	return db.Collect(rows, scan)
}

// Get returns attachment id if actor may see it; otherwise
// apperr.ErrNotFound, so that existence does not leak.
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (*Attachment, error) {
	a, err := scan(s.db.QueryRow(ctx, `SELECT `+columns+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("attachment %d: %w", id, err)
	}
	if _, err := s.cases.Get(ctx, actor, strconv.FormatInt(a.CaseID, 10)); err != nil {
		return nil, err
	}
	if a.Internal && cases.PublicOnly(actor) {
		return nil, apperr.ErrNotFound
	}
	return a, nil
}

// Open returns attachment id and its bytes if actor may see it.
func (s *Service) Open(ctx context.Context, actor auth.Actor, id int64) (*Attachment, io.ReadSeekCloser, error) {
	a, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	rc, err := s.content(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	return a, rc, nil
}

type bytesFile struct{ *bytes.Reader }

func (bytesFile) Close() error { return nil }

func (s *Service) content(ctx context.Context, a *Attachment) (io.ReadSeekCloser, error) {
	if a.stored == "disk" {
		if s.dir == "" {
			return nil, fmt.Errorf("attachment %d is on disk but no attachments directory is configured", a.ID)
		}
		f, err := os.Open(s.path(a.SHA256))
		if err != nil {
			return nil, fmt.Errorf("attachment %d: %w", a.ID, err)
		}
		return f, nil
	}
	var data []byte
	if err := s.db.QueryRow(ctx, `SELECT content FROM attachments WHERE id = ?`, a.ID).Scan(&data); err != nil {
		return nil, fmt.Errorf("attachment %d content: %w", a.ID, err)
	}
	return bytesFile{bytes.NewReader(data)}, nil
}

// ServeType is the Content-Type an attachment of type ct is served with:
// types a browser renders as active content become application/octet-stream.
func ServeType(ct string) string {
	base, _, _ := mime.ParseMediaType(ct)
	switch {
	case base == "", base == "text/html", base == "application/xhtml+xml", base == "image/svg+xml",
		base == "text/xml", base == "application/xml", strings.HasSuffix(base, "+xml"),
		strings.Contains(base, "javascript"), base == "text/css":
		return "application/octet-stream"
	}
	return ct
}

// Sniff is the type Flare gives a file: what http.DetectContentType sees
// in its first bytes; when that is only generic (octet-stream, plain text)
// a more specific declared type of the same kind is kept, unless it is one
// that a browser would render (that never wins over sniffing).
func Sniff(data []byte, declared, name string) string {
	sniffed := http.DetectContentType(data)
	base, _, _ := mime.ParseMediaType(sniffed)
	if declared == "" {
		declared = normType(mime.TypeByExtension(strings.ToLower(path.Ext(name))))
	}
	if declared == "" || ServeType(declared) != declared {
		return sniffed
	}
	switch {
	case base == "application/octet-stream" && !strings.HasPrefix(declared, "text/"):
		return declared
	case base == "text/plain" && strings.HasPrefix(declared, "text/"):
		return declared
	case base == "application/zip" && strings.HasPrefix(declared, "application/vnd."):
		return declared // Office documents are zip files
	}
	return sniffed
}

// refuse says why a file of these types and name is not accepted ("": it is).
func (l Limits) refuse(sniffed, declared, name string) string {
	types := []string{mediaType(sniffed)}
	if d := mediaType(declared); d != "" && d != types[0] {
		types = append(types, d)
	}
	ext := strings.ToLower(path.Ext(name))
	if slices.Contains(l.BlockedExtensions, ext) {
		return "files of type " + ext + " are not accepted"
	}
	for _, t := range types {
		if matchAny(l.Blocked, t) {
			return "files of type " + t + " are not accepted"
		}
	}
	if len(l.Allowed) > 0 && !matchAny(l.Allowed, types[0]) {
		return "files of type " + types[0] + " are not accepted"
	}
	return ""
}

func mediaType(ct string) string {
	base, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return base
}

func matchAny(patterns []string, t string) bool {
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == t || strings.HasSuffix(p, "/*") && strings.HasPrefix(t, strings.TrimSuffix(p, "*")) {
			return true
		}
	}
	return false
}

// normType is a declared type as a media type with its parameters, or ""
// when it is not one.
func normType(ct string) string {
	base, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(base, "/") {
		return ""
	}
	return mime.FormatMediaType(base, params)
}

// CleanName makes a sender's file name safe to keep and show: the last
// path element, no control characters, valid UTF-8, at most 200 bytes,
// "attachment" when nothing is left.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), ".")
	for len(name) > 200 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		return "attachment"
	}
	return name
}

// HumanSize is n bytes for people: "12 KiB".
func HumanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatInt((n+512)>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// Upload is one file of an upload.
type Upload struct {
	Name, DeclaredType string
	R                  io.Reader
}

// Add stores files uploaded by actor on case ref in one transaction, with a
// timeline entry "attachment_added" for each: public ones need
// case.comment, internal ones case.internal_note.
func (s *Service) Add(ctx context.Context, actor auth.Actor, ref string, internal bool, uploads []Upload) ([]*Attachment, error) {
	if len(uploads) == 0 {
		v := &apperr.Invalid{}
		v.Add("file", "at least one file is required")
		return nil, v
	}
	perm := auth.PermCaseComment
	if internal {
		perm = auth.PermCaseInternalNote
	}
	if !actor.Can(perm) {
		return nil, &apperr.Forbidden{Detail: "your role cannot add files to this case"}
	}
	if _, err := s.cases.Get(ctx, actor, ref); err != nil {
		return nil, err
	}
	files := make([]*File, 0, len(uploads))
	for _, u := range uploads {
		f, err := s.Prepare(ctx, u.Name, u.DeclaredType, u.R)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if err := s.CheckMessage(files); err != nil {
		return nil, err
	}
	var out []*Attachment
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := s.cases.ChangeInTx(ctx, tx, actor, ref, perm, func(c *cases.Case) ([]cases.Entry, error) {
			var err error
			out, err = s.SaveAll(ctx, tx, Where{CaseID: c.ID, Internal: internal, Source: "upload", By: actor.UserID}, files)
			if err != nil {
				return nil, err
			}
			entries := make([]cases.Entry, len(out))
			for i, a := range out {
				entries[i] = Entry(a)
			}
			return entries, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Entry is the timeline entry of a stored attachment.
func Entry(a *Attachment) cases.Entry {
	return cases.Entry{Type: "attachment_added", Data: map[string]any{"attachment_id": a.ID, "filename": a.Filename,
		"content_type": a.ContentType, "size": a.Size, "internal": a.Internal}}
}
