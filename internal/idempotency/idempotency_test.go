package idempotency_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/idempotency"
)

func TestSaveLookupExpire(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		k := idempotency.NewKey(7, "abc", "POST", "/api/v1/cases", []byte(`{"title":"x"}`))
		if s, err := idempotency.Lookup(ctx, d, k); s != nil || err != nil {
			t.Fatalf("unknown key: %v %v", s, err)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return idempotency.Save(ctx, tx, now, k, 201, []byte(`{"id":1}`)) }); err != nil {
			t.Fatal(err)
		}
		s, err := idempotency.Lookup(ctx, d, k)
		if err != nil || s == nil || s.Status != 201 || string(s.Body) != `{"id":1}` {
			t.Fatalf("stored: %+v %v", s, err)
		}
		// The same key on a different body is the client's mistake.
		other := idempotency.NewKey(7, "abc", "POST", "/api/v1/cases", []byte(`{"title":"y"}`))
		var inv *apperr.Invalid
		if _, err := idempotency.Lookup(ctx, d, other); !errors.As(err, &inv) {
			t.Fatalf("reused key: %v", err)
		}
		// A second save of the key (a concurrent duplicate) fails its transaction.
		err = d.InTx(ctx, func(tx *db.Tx) error { return idempotency.Save(ctx, tx, now, k, 201, nil) })
		var cf *apperr.Conflict
		if !errors.As(err, &cf) {
			t.Fatalf("duplicate save: %v", err)
		}
		if n, err := idempotency.Expire(ctx, d, now.Add(idempotency.TTL-time.Second)); err != nil || n != 0 {
			t.Fatalf("expired too early: %d %v", n, err)
		}
		if n, err := idempotency.Expire(ctx, d, now.Add(idempotency.TTL+time.Second)); err != nil || n != 1 {
			t.Fatalf("expire after TTL: %d %v", n, err)
		}
	})
}

func TestValidKey(t *testing.T) {
	for key, want := range map[string]bool{"a": true, "7f1c-22": true, "": false, "has space": false, "é": false} {
		if idempotency.Valid(key) != want {
			t.Errorf("Valid(%q) = %v", key, !want)
		}
	}
}
