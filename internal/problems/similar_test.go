package problems

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// The index's candidates lose no case the brute-force scan would show.
func TestSimilarMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	words := make([]string, 300)
	for i := range words {
		words[i] = fmt.Sprintf("w%03dx", i)
	}
	x := NewIndex()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var docs []Doc
	for i := range 3000 {
		text := ""
		for range 4 + r.IntN(12) {
			// Zipf-like: a few words are in most texts.
			text += words[int(float64(len(words))*r.Float64()*r.Float64()*r.Float64())] + " "
		}
		d := Doc{CaseID: int64(i + 1), Number: fmt.Sprint(i + 1), Category: []string{"a", "b"}[r.IntN(2)],
			Seller: fmt.Sprint(r.IntN(20)), Open: r.IntN(4) > 0, CreatedAt: t0.Add(time.Duration(r.IntN(90*24)) * time.Hour),
			Terms: Terms(text)}
		x.Put(d)
		docs = append(docs, d)
	}
	x.Remove(5) // removals keep the postings right
	for i := range 300 {
		q := Query{Doc: docs[r.IntN(len(docs))], Window: 30 * 24 * time.Hour, MinScore: 0.3, Limit: 8}
		got, want := x.Similar(q), x.BruteForce(q)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("query %d: index %+v\nbrute force %+v", i, got, want)
		}
	}
}
