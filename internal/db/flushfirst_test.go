package db

import (
	"context"
	"slices"
	"testing"
)

type order struct {
	name string
	log  *[]string
}

func (o *order) Flush(context.Context, *Tx) error { *o.log = append(*o.log, o.name); return nil }
func (o *order) Discard()                         {}

type firstOrder struct{ order }

func (*firstOrder) FlushFirst() {}

// Deferred work marked FlushFirst is flushed before the rest, each group in
// the order it was registered.
func TestFlushFirstGoesFirst(t *testing.T) {
	var log []string
	b := &txBatch{}
	tx := &Tx{batch: b}
	for _, d := range []Deferred{&order{"audit", &log}, &firstOrder{order{"outbox", &log}}, &order{"other", &log}, &firstOrder{order{"second", &log}}} {
		tx.Deferred(d, func() Deferred { return d })
	}
	if err := b.flush(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	if want := []string{"outbox", "second", "audit", "other"}; !slices.Equal(log, want) {
		t.Fatalf("flushed %v, want %v", log, want)
	}
}
