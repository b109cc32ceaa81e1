package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

// appendN appends n records for object "case"/"c<i%3>" in one transaction each.
func appendN(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			return Append(ctx, tx, t0.Add(time.Duration(i)*time.Second), Entry{
				ActorID:    int64(i%2 + 1),
				Actor:      fmt.Sprintf("user%d@example.com", i%2+1),
				Action:     "case.update",
				ObjectType: "case",
				ObjectID:   fmt.Sprintf("c%d", i%3),
				Before:     map[string]any{"status": "new", "n": i, "tags": []string{"b", "a"}},
				After:      map[string]any{"status": "open", "n": i + 1, "note": "<&> ünïcode \u2028"},
			})
		})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func mustVerify(t *testing.T, q db.Querier) VerifyResult {
	t.Helper()
	res, err := Verify(context.Background(), q)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res
}

func TestAppendListRoundTrip(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := WithRequestID(context.Background(), "req-42")
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := Append(ctx, tx, t0, Entry{Actor: "system", Action: "desk.apply", ObjectType: "desk", ObjectID: "1",
				After: map[string]any{"z": 1.50, "a": []any{1e21, "x", nil, true}}}); err != nil {
				return err
			}
			return Append(ctx, tx, t0.Add(time.Second), Entry{ActorID: 7, Actor: "ann@example.com", Action: "user.create",
				ObjectType: "user", ObjectID: "7", Before: nil, After: json.RawMessage(`{"b": 2, "a": 1}`), RequestID: "explicit"})
		})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := List(ctx, d, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].Seq != 2 || recs[1].Seq != 1 {
			t.Fatalf("want seqs [2 1], got %+v", recs)
		}
		first, second := recs[1], recs[0]
		if first.PrevHash != strings.Repeat("0", 64) || second.PrevHash != first.Hash || len(first.Hash) != 64 {
			t.Fatalf("chain links wrong: %q -> %q -> %q", first.PrevHash, first.Hash, second.PrevHash)
		}
		if !first.At.Equal(t0.Truncate(time.Microsecond)) {
			t.Fatalf("at = %v, want %v", first.At, t0.Truncate(time.Microsecond))
		}
		if first.ActorID != 0 || first.RequestID != "req-42" || second.RequestID != "explicit" {
			t.Fatalf("actor/request ids: %+v / %+v", first, second)
		}
		if got := string(first.After); got != `{"a":[1000000000000000000000,"x",null,true],"z":1.5}` {
			t.Fatalf("after not canonical: %s", got)
		}
		if second.Before != nil || string(second.After) != `{"a":1,"b":2}` {
			t.Fatalf("second before/after: %s / %s", second.Before, second.After)
		}
		if res := mustVerify(t, d); !res.OK || res.Checked != 2 {
			t.Fatalf("verify: %+v", res)
		}
	})
}

func TestAppendRejectsIncompleteEntries(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cases := map[string]struct {
			at time.Time
			e  Entry
		}{
			"no action":     {t0, Entry{ObjectType: "case"}},
			"no type":       {t0, Entry{Action: "case.create"}},
			"zero time":     {time.Time{}, Entry{Action: "case.create", ObjectType: "case"}},
			"bad json":      {t0, Entry{Action: "case.create", ObjectType: "case", After: json.RawMessage(`{"a":`)}},
			"unmarshalable": {t0, Entry{Action: "case.create", ObjectType: "case", After: func() {}}},
		}
		for name, c := range cases {
			err := d.InTx(ctx, func(tx *db.Tx) error { return Append(ctx, tx, c.at, c.e) })
			if err == nil {
				t.Errorf("%s: Append accepted %+v", name, c.e)
			}
		}
	})
}

func TestVerifyEmptyChain(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		if res := mustVerify(t, d); !res.OK || res.Checked != 0 {
			t.Fatalf("empty chain: %+v", res)
		}
	})
}

func TestVerifyDetectsTampering(t *testing.T) {
	ctx := context.Background()
	tampers := []struct {
		name   string
		sql    string
		broken int64
	}{
		{"after changed", `UPDATE audit_log SET after = '{"status":"closed"}' WHERE seq = 3`, 3},
		{"before nulled", `UPDATE audit_log SET before = NULL WHERE seq = 4`, 4},
		{"actor changed", `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`, 2},
		{"row deleted", `DELETE FROM audit_log WHERE seq = 3`, 3},
		{"first row deleted", `DELETE FROM audit_log WHERE seq = 1`, 1},
		{"hash rewritten", `UPDATE audit_log SET hash = prev_hash WHERE seq = 5`, 5},
	}
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
				appendN(t, d, 6)
				if res := mustVerify(t, d); !res.OK || res.Checked != 6 {
					t.Fatalf("before tampering: %+v", res)
				}
				if _, err := d.Exec(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
				res := mustVerify(t, d)
				if res.OK || res.BrokenSeq != tc.broken || res.Reason == "" {
					t.Fatalf("want broken seq %d, got %+v", tc.broken, res)
				}
			})
		})
	}
}

// A store that rewrites JSON (key order, spacing, number spelling) without
// changing its meaning must not break the chain; this is what JSONB does.
func TestVerifyToleratesJSONRewriting(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		appendN(t, d, 3)
		rewritten := `{ "tags" : ["b","a"], "n" : 10e-1, "status" : "new" }` // seq 2 had n=1
		if _, err := d.Exec(ctx, `UPDATE audit_log SET before = ? WHERE seq = 2`, rewritten); err != nil {
			t.Fatal(err)
		}
		if res := mustVerify(t, d); !res.OK {
			t.Fatalf("equivalent JSON broke the chain: %+v", res)
		}
		// Reordering an array does change the meaning.
		if _, err := d.Exec(ctx, `UPDATE audit_log SET before = ? WHERE seq = 2`, `{"tags":["a","b"],"n":1,"status":"new"}`); err != nil {
			t.Fatal(err)
		}
		if res := mustVerify(t, d); res.OK || res.BrokenSeq != 2 {
			t.Fatalf("reordered array not detected: %+v", res)
		}
	})
}

func TestConcurrentAppendsChain(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const workers, each = 20, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					errs <- d.InTx(ctx, func(tx *db.Tx) error {
						return Append(ctx, tx, t0, Entry{ActorID: int64(w + 1), Actor: "w", Action: "case.create",
							ObjectType: "case", ObjectID: fmt.Sprintf("%d-%d", w, i), After: map[string]int{"i": i}})
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		res := mustVerify(t, d)
		if !res.OK || res.Checked != workers*each {
			t.Fatalf("verify after concurrent appends: %+v", res)
		}
		var n, maxSeq int64
		if err := d.QueryRow(ctx, `SELECT COUNT(*), MAX(seq) FROM audit_log`).Scan(&n, &maxSeq); err != nil {
			t.Fatal(err)
		}
		if n != workers*each || maxSeq != workers*each {
			t.Fatalf("seqs not gapless: count %d, max %d", n, maxSeq)
		}
	})
}

func TestAppendRolledBackWithTransaction(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		appendN(t, d, 2)
		_ = d.InTx(ctx, func(tx *db.Tx) error {
			if err := Append(ctx, tx, t0, Entry{Action: "case.create", ObjectType: "case"}); err != nil {
				t.Fatal(err)
			}
			return context.Canceled
		})
		appendN(t, d, 1)
		res := mustVerify(t, d)
		if !res.OK || res.Checked != 3 {
			t.Fatalf("after rollback: %+v", res)
		}
	})
}

func TestListFiltersAndCursor(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		appendN(t, d, 12) // object c<i%3>, actor i%2+1, seq i+1
		seqs := func(f Filter) []int64 {
			t.Helper()
			recs, err := List(ctx, d, f)
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, r := range recs {
				out = append(out, r.Seq)
			}
			return out
		}
		check := func(name string, got []int64, want ...int64) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: got %v, want %v", name, got, want)
			}
		}
		check("object", seqs(Filter{ObjectType: "case", ObjectID: "c1"}), 11, 8, 5, 2)
		check("actor", seqs(Filter{ActorID: 2}), 12, 10, 8, 6, 4, 2)
		check("object+actor", seqs(Filter{ObjectType: "case", ObjectID: "c1", ActorID: 2}), 8, 2)
		check("other type", seqs(Filter{ObjectType: "user"}))
		check("page 1", seqs(Filter{Limit: 5}), 12, 11, 10, 9, 8)
		check("page 2", seqs(Filter{Limit: 5, BeforeSeq: 8}), 7, 6, 5, 4, 3)
		check("page 3", seqs(Filter{Limit: 5, BeforeSeq: 3}), 2, 1)
		check("cursor+filter", seqs(Filter{ObjectID: "c1", BeforeSeq: 8}), 5, 2)
	})
}

func TestListLimits(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for range 520 {
				if err := Append(ctx, tx, t0, Entry{Action: "case.create", ObjectType: "case"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ limit, want int }{{0, 50}, {-1, 50}, {7, 7}, {1000, 500}} {
			recs, err := List(ctx, d, Filter{Limit: c.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != c.want {
				t.Errorf("limit %d: got %d records, want %d", c.limit, len(recs), c.want)
			}
		}
	})
}

func TestCanonicalJSON(t *testing.T) {
	cases := map[string]string{
		`{"b":1,"a":{"d":[1,2],"c":null}}`:               `{"a":{"c":null,"d":[1,2]},"b":1}`,
		` [ 1.50 , -0 , 0.0 , 1E2 , 15e-1 , -0.012e1 ] `: `[1.5,0,0,100,1.5,-0.12]`,
		`123456789012345678901234567890`:                 `123456789012345678901234567890`,
		`1e500`:                                          `1e500`,
		`"<a&b> \u00e9"`:                                 `"<a&b> é"`,
		`{"a":1,"a":2}`:                                  `{"a":2}`,
	}
	for in, want := range cases {
		got, err := canonicalJSON([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
		again, err := canonicalJSON(got)
		if err != nil || string(again) != string(got) {
			t.Errorf("%s: not idempotent: %s -> %s (%v)", in, got, again, err)
		}
	}
	// Scientific output must survive being spelled out in full (as JSONB does).
	got, err := canonicalJSON([]byte("1" + strings.Repeat("0", 500)))
	if err != nil || string(got) != "1e500" {
		t.Errorf("long integer: %s %v", got, err)
	}
	for _, bad := range []string{``, `{"a":`, `1 2`, `1e9999999999`} {
		if _, err := canonicalJSON([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRequestIDContext(t *testing.T) {
	if got := RequestIDFrom(context.Background()); got != "" {
		t.Fatalf("empty context gave %q", got)
	}
	if got := RequestIDFrom(WithRequestID(context.Background(), "abc")); got != "abc" {
		t.Fatalf("got %q", got)
	}
}

// CanonicalWithout drops top-level keys and gives the same canonical form
// as the chain hashes (a fixed point of canonicalJSON).
func TestCanonicalWithout(t *testing.T) {
	raw := []byte(`{"sla": [{"x": 1}], "z": 1.50, "a": {"sla": "kept", "b": 15e-1}, "id": 7}`)
	got, err := CanonicalWithout(raw, "sla", "id")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"b":1.5,"sla":"kept"},"z":1.5}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	again, err := canonicalJSON(got)
	if err != nil || string(again) != string(got) {
		t.Fatalf("not a fixed point: %s (%v)", again, err)
	}
	if _, err := CanonicalWithout([]byte(`{"a": 1} trailing`)); err == nil {
		t.Fatal("trailing data accepted")
	}
}

// With adds keys to a canonical object: the same bytes as canonicalising
// the whole document with them.
func TestCanonicalWith(t *testing.T) {
	docs := []string{
		`{"title":"Tom & Jerry <b>","z":[1.50,{"b":1,"a":"é\u2028"}],"m":null}`,
		`{}`,
		`{"number":"old","id":0,"nested":{"y":1e2,"x":"\"q\""}}`,
	}
	for _, doc := range docs {
		partial, err := CanonicalWithout([]byte(doc), "id", "number")
		if err != nil {
			t.Fatal(err)
		}
		got, err := partial.With(map[string]any{"id": int64(42), "number": "ESC-42 <&>"})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		m["id"], m["number"] = 42, "ESC-42 <&>"
		want, err := CanonicalOf(m)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("With:\n%s\nwant\n%s", got, want)
		}
	}
	if _, err := Canonical(`[1]`).With(map[string]any{"a": 1}); err == nil {
		t.Error("With on an array: no error")
	}
}
