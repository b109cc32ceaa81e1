package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/auth"
)

// MaxUpload is the largest request body of an attachment upload.
const MaxUpload = 64 << 20

// bodyLimit is the body cap of r: uploads of attachments get MaxUpload
// (the attachments service applies its own, usually smaller, limits).
func bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && (isUploadPath(r.URL.Path) || r.URL.Path == "/portal/new") { // the portal's request form takes files (ui_portal.go)
		return MaxUpload
	}
	return MaxBody
}

func isUploadPath(p string) bool {
	const suffix = "/attachments"
	return len(p) > len(suffix) && p[len(p)-len(suffix):] == suffix
}

func (s *Server) listAttachments(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	as, err := s.app.Attachments.List(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"attachments": as})
	return nil
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return serveAttachment(w, r, s, a, id)
}

// serveAttachment sends attachment id as a download: never inline, never
// sniffed, active content as application/octet-stream.
func serveAttachment(w http.ResponseWriter, r *http.Request, s *Server, a auth.Actor, id int64) error {
	att, rc, err := s.app.Attachments.Open(r.Context(), a, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", attachments.ServeType(att.ContentType))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": att.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("ETag", `"`+att.SHA256+`"`)
	http.ServeContent(w, r, "", time.Time{}, rc)
	return nil
}

// addAttachments takes a multipart/form-data upload: one or more "file"
// parts, and "internal=true" for files on the desk's side only.
func (s *Server) addAttachments(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	uploads, internal, err := readUploads(r)
	if err != nil {
		return err
	}
	as, err := s.app.Attachments.Add(r.Context(), a, r.PathValue("ref"), internal, uploads)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"attachments": as})
	return nil
}

// readUploads reads a multipart upload's files and its "internal" field.
func readUploads(r *http.Request) ([]attachments.Upload, bool, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, false, badRequest("Send the files as multipart/form-data, each in a part named \"file\".",
			apperr.FieldError{Field: "body", Message: "is not multipart/form-data"})
	}
	var (
		uploads  []attachments.Upload
		internal bool
	)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, false, err
		}
		if err != nil {
			return nil, false, badRequest("The multipart body could not be read.",
				apperr.FieldError{Field: "body", Message: "is not a well-formed multipart body"})
		}
		switch p.FormName() {
		case "file":
			b, err := readPart(p)
			if err != nil {
				return nil, false, err
			}
			uploads = append(uploads, attachments.Upload{Name: p.FileName(), DeclaredType: p.Header.Get("Content-Type"), R: b})
		case "internal":
			b, err := readPart(p)
			if err != nil {
				return nil, false, err
			}
			v, perr := strconv.ParseBool(strings.TrimSpace(b.String()))
			if perr != nil {
				return nil, false, badRequest("internal must be true or false.", apperr.FieldError{Field: "internal", Message: "must be true or false"})
			}
			internal = v
		default:
			return nil, false, badRequest("Unknown form field "+strconv.Quote(p.FormName())+".",
				apperr.FieldError{Field: p.FormName(), Message: "unknown field"})
		}
	}
	return uploads, internal, nil
}

// readPart reads one part (the body's cap bounds it).
func readPart(p *multipart.Part) (*bytes.Buffer, error) {
	var b bytes.Buffer
	if _, err := io.Copy(&b, p); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, badRequest("The multipart body could not be read.",
			apperr.FieldError{Field: "body", Message: "is not a well-formed multipart body"})
	}
	return &b, nil
}
