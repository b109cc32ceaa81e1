package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/sla"
)

// Auth is how an intake endpoint knows its sender. The secret is never in
// the desk document (it is exported, audited and shown to admins): the
// document names the environment variable of the server that holds it.
//
//	auth:
//	  type: hmac                        # hmac | bearer | basic
//	  secret_env: FLARE_INTAKE_SOCIAL_SECRET
//	  header: X-Signature-256           # hmac: the signature's header (default X-Signature)
//	  prefix: "sha256="                 # hmac: text before the signature, if the sender writes one
//	  encoding: hex                     # hmac: hex (default) or base64
//	  timestamp_header: X-Timestamp     # hmac, optional: Unix seconds, signed as "<timestamp>.<body>"
//	  tolerance: 5m                     # with timestamp_header: how far from now it may be (default 5m)
//	  username: alertmanager            # basic: the user name; the password is in secret_env
//
// hmac: the signature is HMAC-SHA256 over the raw body (or over
// "<timestamp>.<body>" with timestamp_header), compared in constant time.
// bearer: "Authorization: Bearer <secret>". basic: HTTP basic
// authentication with username and the secret as the password.
type Auth struct {
	Type            string `yaml:"type" json:"type"`
	SecretEnv       string `yaml:"secret_env" json:"secret_env"`
	Header          string `yaml:"header,omitempty" json:"header,omitempty"`
	Prefix          string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	Encoding        string `yaml:"encoding,omitempty" json:"encoding,omitempty"`
	TimestampHeader string `yaml:"timestamp_header,omitempty" json:"timestamp_header,omitempty"`
	Tolerance       string `yaml:"tolerance,omitempty" json:"tolerance,omitempty"`
	Username        string `yaml:"username,omitempty" json:"username,omitempty"`
}

// The kinds of Auth.
const (
	AuthHMAC   = "hmac"
	AuthBearer = "bearer"
	AuthBasic  = "basic"
)

// DefaultSignatureHeader is the signature's header when Auth names none.
const DefaultSignatureHeader = "X-Signature"

// DefaultTolerance is how far a signed timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

var (
	envRe    = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,127}$`)
	headerRe = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
)

// AuthError is a request whose credentials do not check out (HTTP 401).
type AuthError struct{ Detail string }

func (e *AuthError) Error() string { return e.Detail }

// Canonical is a in canonical form.
func (a Auth) Canonical() Auth {
	a.Type, a.Encoding = strings.ToLower(a.Type), strings.ToLower(a.Encoding)
	if a.Type == AuthHMAC && a.Header == "" {
		a.Header = DefaultSignatureHeader
	}
	return a
}

// ValidateAuth checks a at path (types allowed: the kinds the endpoint takes).
func ValidateAuth(v *apperr.Invalid, path string, a Auth, types ...string) {
	ok := false
	for _, t := range types {
		ok = ok || strings.EqualFold(a.Type, t)
	}
	if !ok {
		v.Add(path+".type", "must be %s", strings.Join(types, " or "))
		return
	}
	if !envRe.MatchString(a.SecretEnv) {
		v.Add(path+".secret_env", "must name the environment variable that holds the secret (A-Z, 0-9, _), such as FLARE_INTAKE_PARTNER_SECRET; the secret itself never goes in the desk document")
	}
	hmacOnly := func(field, val string) {
		if val != "" && !strings.EqualFold(a.Type, AuthHMAC) {
			v.Add(path+"."+field, "is only for type hmac")
		}
	}
	hmacOnly("header", a.Header)
	hmacOnly("prefix", a.Prefix)
	hmacOnly("encoding", a.Encoding)
	hmacOnly("timestamp_header", a.TimestampHeader)
	hmacOnly("tolerance", a.Tolerance)
	for field, h := range map[string]string{"header": a.Header, "timestamp_header": a.TimestampHeader} {
		if h != "" && !headerRe.MatchString(h) {
			v.Add(path+"."+field, "must be an HTTP header name")
		}
	}
	if a.Prefix != "" && (len(a.Prefix) > 32 || strings.ContainsAny(a.Prefix, "\r\n\x00")) {
		v.Add(path+".prefix", "must be a short one-line text such as sha256=")
	}
	switch strings.ToLower(a.Encoding) {
	case "", "hex", "base64":
	default:
		v.Add(path+".encoding", "must be hex or base64")
	}
	if a.Tolerance != "" {
		if a.TimestampHeader == "" {
			v.Add(path+".tolerance", "needs timestamp_header")
		} else if d, err := sla.ParseDuration(a.Tolerance); err != nil || d <= 0 {
			v.Add(path+".tolerance", "must be a duration such as 5m")
		}
	}
	if strings.EqualFold(a.Type, AuthBasic) {
		if a.Username == "" || strings.ContainsAny(a.Username, ":\r\n\x00") || len(a.Username) > 128 {
			v.Add(path+".username", "is required for basic authentication: a user name without ':'")
		}
	} else if a.Username != "" {
		v.Add(path+".username", "is only for type basic")
	}
}

func (a Auth) tolerance() time.Duration {
	if d, err := sla.ParseDuration(a.Tolerance); err == nil && d > 0 {
		return d
	}
	return DefaultTolerance
}

// Verify checks a request's credentials against a (canonical, validated):
// secret is the value of a.SecretEnv; an empty one refuses every request.
func (a Auth) Verify(h http.Header, body []byte, secret string, now time.Time) error {
	if secret == "" {
		return &AuthError{"This endpoint's secret is not set on the server (" + a.SecretEnv + "); it accepts nothing until it is."}
	}
	switch a.Type {
	case AuthBearer:
		tok, ok := bearer(h)
		if !ok || !equalSecret(tok, secret) {
			return &AuthError{"Send Authorization: Bearer <the endpoint's token>."}
		}
	case AuthBasic:
		r := http.Request{Header: h}
		user, pass, ok := r.BasicAuth()
		if !ok || !equalSecret(user, a.Username) || !equalSecret(pass, secret) {
			return &AuthError{"Send HTTP basic authentication with the endpoint's user name and password."}
		}
	case AuthHMAC:
		return a.verifyHMAC(h, body, secret, now)
	default:
		return &AuthError{"This endpoint has no usable authentication."}
	}
	return nil
}

func (a Auth) verifyHMAC(h http.Header, body []byte, secret string, now time.Time) error {
	sig, ok := strings.CutPrefix(strings.TrimSpace(h.Get(a.Header)), a.Prefix)
	if !ok || sig == "" {
		return &AuthError{"Sign the body: " + a.Header + ": " + a.Prefix + "<HMAC-SHA256 of the body>."}
	}
	var got []byte
	var err error
	if a.Encoding == "base64" {
		got, err = base64.StdEncoding.DecodeString(sig)
	} else {
		got, err = hex.DecodeString(strings.ToLower(sig))
	}
	if err != nil {
		return &AuthError{"The signature in " + a.Header + " is not " + encodingName(a.Encoding) + "."}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	if a.TimestampHeader != "" {
		ts := strings.TrimSpace(h.Get(a.TimestampHeader))
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return &AuthError{"Send the signing time in " + a.TimestampHeader + " (Unix seconds)."}
		}
		if d := now.Sub(time.Unix(sec, 0)); d > a.tolerance() || d < -a.tolerance() {
			return &AuthError{"The signing time in " + a.TimestampHeader + " is too far from now; the signature may be replayed or the sender's clock is off."}
		}
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
	}
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return &AuthError{"The signature in " + a.Header + " does not match the body."}
	}
	return nil
}

func encodingName(e string) string {
	if e == "base64" {
		return "base64"
	}
	return "hex"
}

// Sign is the signature a sender puts in a.Header for body (and ts when a
// has a timestamp header): for tests, the demo and documentation.
func (a Auth) Sign(body []byte, secret string, ts int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	if a.TimestampHeader != "" {
		mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	}
	mac.Write(body)
	sum := mac.Sum(nil)
	if a.Encoding == "base64" {
		return a.Prefix + base64.StdEncoding.EncodeToString(sum)
	}
	return a.Prefix + hex.EncodeToString(sum)
}

func bearer(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(v[7:]), true
}

// equalSecret compares in constant time, whatever the lengths.
func equalSecret(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}
