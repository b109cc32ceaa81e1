package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// decodeEncode is the canonical form as it was first defined: decode into
// any with json.Number, normalise the numbers, encode with sorted map keys
// and no HTML escaping. canonicalWithout must give the same bytes, or the
// same input would hash differently in the chain than it did.
func decodeEncode(raw []byte, drop ...string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data")
	}
	if m, ok := v.(map[string]any); ok {
		for _, k := range drop {
			delete(m, k)
		}
	}
	v, err := normaliseRef(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func normaliseRef(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		s, err := canonicalNumber(string(x))
		return json.Number(s), err
	case map[string]any:
		for k, e := range x {
			n, err := normaliseRef(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	case []any:
		for i, e := range x {
			n, err := normaliseRef(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	}
	return v, nil
}

// canonSeeds are documents of the shapes the audit log canonicalises (case
// snapshots, desk documents) and the corners of JSON's string and number
// syntax.
var canonSeeds = []string{
	`{"b":1,"a":{"d":[1,2],"c":null}}`,
	` [ 1.50 , -0 , 0.0 , 1E2 , 15e-1 , -0.012e1 , 0 , -7 , 10 , 007 ] `,
	`123456789012345678901234567890`,
	`1e500`, `-0`, `0`, `-12`, `1.0e+2`, `"x"`, `true`, `false`, `null`, `[]`, `{}`, `[{}, [], ""]`,
	`"<a&b> \u00e9 \u003c\u003e\u0026 \u2028\u2029 \/ \b\f\n\r\t \u0001\u001f\u007f"`,
	`"\ud83d\ude00 \ud83d \ude00 \ud83dx \ud83d\u0041 \uD83D\uDE00"`,
	"\"\xff\xfe invalid \xe2\x82 utf-8 \xed\xa0\x80\"",
	"{\"k\xff\":1,\"k\\u00ff\":2,\"\\n\":3,\"\":4,\"a\\\"\":5}",
	`{"a":1,"a":2,"b":{"x":1,"x":[3],"a":0},"a":3}`,
	`{"z":{"sla":1},"sla":[1,2],"id":7,"number":"ESC-1","title":"Tom & Jerry"}`,
	`{"a" : 1 , "c" : [ true , false , null ] , "b" : "é" }`,
	strings.Repeat("[", 50) + strings.Repeat("]", 50),
	`{"a":1} trailing`, `{"a":}`, `{"a" 1}`, `[1,]`, `{,}`, `01`, `1.`, `1e`, `-`, `.5`, `+1`, `tru`, `nul`,
	"\"tab\tin string\"", `"\x"`, `"\u12"`, `"unterminated`, `{"a":1`, `[1`, ``, ` `, `1 2`, `1e9999999999`,
	`{"a":1}{"b":2}`, "\xef\xbb\xbf{}",
}

func TestCanonicalMatchesDecodeEncode(t *testing.T) {
	for _, in := range canonSeeds {
		checkCanon(t, []byte(in))
	}
	// A case snapshot as cases.snapshot makes them.
	now := time.Date(2026, 12, 1, 9, 30, 0, 123456000, time.UTC)
	snap := map[string]any{"id": 42, "number": "ESC-42", "title": "Parcel <lost> & \"found\"", "created_at": now,
		"fields": map[string]any{"order": "A-1", "weight": 1.25, "n": 3}, "tags": []string{"social", "x"},
		"priority_reasons": []map[string]any{{"factor": "tier", "points": 20, "detail": "tier 1 seller"}},
		"sla":              []any{map[string]any{"metric": "first_response"}}, "description": "line one\nline two\t— ünïcødé ✓"}
	raw, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	checkCanon(t, raw, "sla")
	checkCanon(t, raw, "sla", "id", "number")
}

func checkCanon(t *testing.T, in []byte, drop ...string) {
	t.Helper()
	want, werr := decodeEncode(in, drop...)
	got, gerr := canonicalWithout(in, drop...)
	switch {
	case (werr == nil) != (gerr == nil):
		t.Errorf("%q: error %v, want %v", in, gerr, werr)
	case werr == nil && !bytes.Equal(got, want):
		t.Errorf("%q:\n got %s\nwant %s", in, got, want)
	}
}

func TestCanonicalDepthLimit(t *testing.T) {
	for _, n := range []int{maxCanonDepth, maxCanonDepth + 1} {
		checkCanon(t, []byte(strings.Repeat("[", n)+strings.Repeat("]", n)))
		checkCanon(t, []byte(strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)))
	}
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range canonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkCanon(t, in, "id")
		if got, err := canonicalWithout(in); err == nil {
			if again, err := canonicalWithout(got); err != nil || !bytes.Equal(again, got) {
				t.Errorf("%q: not a fixed point: %s -> %s (%v)", in, got, again, err)
			}
		}
	})
}

func BenchmarkCanonicalWithout(b *testing.B) {
	raw, _ := json.Marshal(map[string]any{"id": 42, "number": "ESC-42", "title": "Parcel <lost> & found",
		"description": strings.Repeat("The seller handed 40 parcels to the courier on Monday; none has a scan since. ", 3),
		"created_at":  time.Now(), "fields": map[string]any{"order": "A-1", "n": 3}, "tags": []string{"social", "x"},
		"priority": "P2", "status": "new", "team": "escalations", "market": "GB", "channel": "social", "escalation_level": 1})
	for _, impl := range []struct {
		name string
		fn   func([]byte, ...string) ([]byte, error)
	}{{"one_pass", canonicalWithout}, {"decode_encode", decodeEncode}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.fn(raw, "sla"); err != nil {
					b.Fatal(fmt.Sprint(err))
				}
			}
		})
	}
}
