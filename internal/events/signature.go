package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The headers of every webhook request Flare sends: the event stream's
// webhook (webhook.go) and the notification webhooks (internal/notify).
const (
	HeaderEvent     = "X-Flare-Event"     // the event's type: case.created
	HeaderEventID   = "X-Flare-Event-Id"  // the event's id, the same on every retry: deduplicate by it
	HeaderTimestamp = "X-Flare-Timestamp" // when this attempt was signed, in Unix seconds
	HeaderSignature = "X-Flare-Signature" // v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
)

// The signature. v1 is HMAC-SHA256 keyed with the secret over the
// timestamp header's value, a dot and the exact body bytes. A receiver:
//
//  1. reads the raw body (before any JSON decoding: re-encoding changes bytes);
//  2. rejects the request if X-Flare-Timestamp is more than a tolerance (5
//     minutes is usual) away from its own clock — a replayed old request
//     fails here, since the timestamp is inside the signed text;
//  3. computes hex(HMAC-SHA256(secret, timestamp + "." + body)) and
//     compares it in constant time with the v1 values of X-Flare-Signature
//     (comma-separated; there may be several while a secret rotates).
//
// VerifySignature does exactly this. Each attempt is signed afresh, so a
// retry hours later carries a current timestamp.

// Sign signs body at t with secret: the X-Flare-Timestamp and
// X-Flare-Signature values.
func Sign(secret []byte, t time.Time, body []byte) (ts, sig string) {
	ts = strconv.FormatInt(t.Unix(), 10)
	return ts, "v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Signature errors.
var (
	ErrSignatureMissing  = errors.New("no usable X-Flare-Timestamp and X-Flare-Signature (want a Unix time and v1=<hex>)")
	ErrSignatureMismatch = errors.New("X-Flare-Signature does not match the body")
	ErrSignatureTooOld   = errors.New("X-Flare-Timestamp is outside the tolerance")
)

// VerifySignature checks a request's X-Flare-Timestamp (ts) and
// X-Flare-Signature (sig) for body, as a receiver does: ts within tolerance
// of now (either side: clocks differ), and one v1 value equal to
// HMAC-SHA256(secret, ts + "." + body).
func VerifySignature(secret []byte, ts, sig string, body []byte, now time.Time, tolerance time.Duration) error {
	ts = strings.TrimSpace(ts)
	sec, err := strconv.ParseInt(ts, 10, 64)
	var sigs [][]byte
	for part := range strings.SplitSeq(sig, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "v1="); ok {
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if err != nil || len(sigs) == 0 {
		return ErrSignatureMissing
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureTooOld
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// RedactURL drops credentials, the query and the fragment of a webhook's
// URL, which often carry tokens: what errors and admins show.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	return u.String()
}
