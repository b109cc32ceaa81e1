package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/input"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	Errors   []apperr.FieldError `json:"errors,omitempty"`
	Allowed  []string            `json:"allowed,omitempty"`
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

func problem(status int, slug, title, detail string) *Problem {
	return &Problem{Type: "/problems/" + slug, Title: title, Status: status, Detail: detail}
}

func badRequest(detail string, errs ...apperr.FieldError) *Problem {
	p := problem(http.StatusBadRequest, "bad-request", "Bad request", detail)
	p.Errors = errs
	return p
}

// toProblem maps a domain error to the problem the client sees. Anything
// unexpected is a 500 whose details stay in the log.
func toProblem(err error) *Problem {
	var (
		p   *Problem
		inv *apperr.Invalid
		fb  *apperr.Forbidden
		cf  *apperr.Conflict
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &inv):
		p := problem(http.StatusUnprocessableEntity, "validation", "Invalid "+inv.What(), "Fix the fields listed in errors; nothing was written.")
		p.Errors = inv.Errors
		return p
	case errors.Is(err, apperr.ErrNotFound), errors.Is(err, auth.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Not found", "No such object, or you may not see it.")
	case errors.As(err, &fb):
		return problem(http.StatusForbidden, "forbidden", "Forbidden", fb.Detail)
	case errors.As(err, &cf):
		return problem(http.StatusConflict, "conflict", "Conflict", cf.Detail)
	case errors.Is(err, auth.ErrUnauthenticated):
		return problem(http.StatusUnauthorized, "unauthenticated", "Unauthenticated", "Send Authorization: Bearer <token> or sign in.")
	case errors.As(err, &mbe):
		return problem(http.StatusRequestEntityTooLarge, "too-large", "Request body too large", fmt.Sprintf("The limit is %d bytes.", mbe.Limit))
	}
	return problem(http.StatusInternalServerError, "internal", "Internal error", "Something went wrong on our side; it has been logged.")
}

func writeProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := toProblem(err)
	if p.Status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.Instance = r.URL.Path
	if p.Type == "/problems/validation" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		p.Detail = "Fix the query parameters listed in errors." // a read writes nothing anyway
	}
	w.Header().Set("Content-Type", "application/problem+json")
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flare"`)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a JSON request body into v: it must be JSON, within the
// size limit, exactly one object, name no unknown fields, and its strings
// must pass the input rules.
func decodeJSON(r *http.Request, v any) error {
	_, err := readJSON(r, v)
	return err
}

// readJSON is decodeJSON that also returns the body (an Idempotency-Key
// is bound to it).
func readJSON(r *http.Request, v any) ([]byte, error) {
	if err := checkJSONType(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	return body, unmarshalStrict(body, v)
}

// unmarshalStrict decodes body, exactly one JSON object, into v (see
// input.DecodeJSON): a malformed body is a 400 naming the member where it
// can; strings that break the input rules are a 422 naming each member.
func unmarshalStrict(body []byte, v any) error {
	err := input.DecodeJSON(body, v)
	var be *input.BodyError
	if errors.As(err, &be) {
		if be.Field != "" {
			return badRequest(be.Detail, apperr.FieldError{Field: be.Field, Message: be.Message})
		}
		return badRequest(be.Detail)
	}
	return err
}
