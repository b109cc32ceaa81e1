package webhook

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/input"
)

// DecodePayload reads a sender's body: one JSON object under the input
// rules (depth, sizes, every string through the gate). Numbers stay
// exact (json.Number): a 19-digit post id must not become a float. A body
// that is not is an *apperr.Invalid naming "body" (HTTP 422).
func DecodePayload(body []byte) (map[string]any, error) {
	var probe map[string]jsontext.Value
	if err := input.DecodeJSON(body, &probe); err != nil {
		var be *input.BodyError
		if errors.As(err, &be) {
			field := "body"
			if be.Field != "" {
				field = "body." + be.Field
			}
			return nil, &apperr.Invalid{Subject: "webhook payload", Errors: []apperr.FieldError{{Field: field, Message: be.Detail}}}
		}
		var inv *apperr.Invalid
		if errors.As(err, &inv) { // strings that break the gate, by member
			inv.Subject = "webhook payload"
			for i := range inv.Errors {
				inv.Errors[i].Field = "body." + inv.Errors[i].Field
			}
		}
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil { // cannot fail after DecodeJSON; kept honest
		return nil, apperr.InvalidField("body", "is not a JSON object: %v", err)
	}
	return doc, nil
}
