package webhook

import (
	"context"
	"io"
	"net/http"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/intake"
)

// SourcePrefix starts an endpoint's intake source key: "webhook:<key>".
const SourcePrefix = "webhook:"

// Service receives the endpoints' requests.
type Service struct {
	desk   *desk.Service
	intake *intake.Service
	clock  clock.Clock
	getenv func(string) string
}

// New returns the webhook service; getenv reads the endpoints' secrets
// (os.Getenv in a server).
func New(dk *desk.Service, in *intake.Service, c clock.Clock, getenv func(string) string) *Service {
	return &Service{desk: dk, intake: in, clock: c, getenv: getenv}
}

// Receive handles one request to the endpoint key: it checks the sender's
// credentials, maps the JSON body to a case and submits it to the intake.
// Errors: apperr.ErrNotFound (no such endpoint), *AuthError (credentials),
// *http.MaxBytesError (body over the endpoint's limit), *apperr.Invalid (a
// body that is not JSON, a mapping failure naming its pointer, a case the
// rules refuse). Nothing is written unless the case is.
func (s *Service) Receive(ctx context.Context, key string, h http.Header, body io.Reader) (*intake.Result, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	e, ok := desk.Memo(cfg, EndpointsKey, compileEndpoints)[key]
	if !ok {
		return nil, apperr.ErrNotFound
	}
	raw, err := ReadBody(e.Auth, h, body, e.maxBody(), s.getenv(e.Auth.SecretEnv), s.clock)
	if err != nil {
		return nil, err
	}
	doc, err := DecodePayload(raw)
	if err != nil {
		return nil, err
	}
	in, id, err := e.mapping.apply(doc)
	if err != nil {
		return nil, err
	}
	return s.intake.Submit(ctx, auth.System(SourcePrefix+key), intake.Submission{
		Source: intake.Source{Channel: e.Channel, Key: SourcePrefix + key, ExternalID: id},
		Case:   in,
	})
}

// ReadBody reads a request's body under limit and checks its credentials:
// a bearer token or basic authentication before the body is read, a
// signature after.
func ReadBody(a Auth, h http.Header, body io.Reader, limit int64, secret string, c clock.Clock) ([]byte, error) {
	if a.Type != AuthHMAC {
		if err := a.Verify(h, nil, secret, c.Now()); err != nil {
			return nil, err
		}
	}
	raw, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err // the server's own limit (*http.MaxBytesError) or a broken connection
	}
	if int64(len(raw)) > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	if a.Type == AuthHMAC {
		if err := a.Verify(h, raw, secret, c.Now()); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

// UseSecrets replaces how the endpoints' secrets are read (the demo desk
// has its own); call it while wiring.
func (s *Service) UseSecrets(getenv func(string) string) { s.getenv = getenv }
