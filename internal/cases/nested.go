package cases

import "context"

// Changes inside a change. An in-transaction subscriber may change the very
// case whose change it answers, through ChangeInTx (an escalation raises the
// level of a case just made P1): the row is locked by the same transaction
// already, so that works, but the outer change still holds its copy of the
// case from before. Each change notes the cases it saved in the changes it
// runs inside of, and changeTx and Create re-read their case when a
// subscriber changed it, so that what they re-evaluate, audit and return is
// the case as it stands.

type nestedKey struct{}

// nested is the note a change keeps of the cases changed inside it.
type nested struct {
	ids    map[int64]bool
	parent *nested
}

// watchNested returns ctx with a new note, inside the notes ctx carries.
func watchNested(ctx context.Context) (context.Context, *nested) {
	parent, _ := ctx.Value(nestedKey{}).(*nested)
	n := &nested{ids: map[int64]bool{}, parent: parent}
	return context.WithValue(ctx, nestedKey{}, n), n
}

// noteChange notes in every change ctx runs inside of that case id was saved.
func noteChange(ctx context.Context, id int64) {
	for n, _ := ctx.Value(nestedKey{}).(*nested); n != nil; n = n.parent {
		n.ids[id] = true
	}
}

// take reports whether case id changed inside, and forgets it.
func (n *nested) take(id int64) bool {
	ok := n.ids[id]
	delete(n.ids, id)
	return ok
}

// WatchChanges returns ctx in which the changes made to cases (ChangeInTx,
// the batches) are noted, and changed, which reports whether case id was
// changed in it (and forgets it): for a caller that holds a case it wrote
// and reads it back only when something else changed it since. A
// subscriber's amendment of a case being created is not noted: it changes
// the creator's copy (amend.go).
func WatchChanges(ctx context.Context) (_ context.Context, changed func(id int64) bool) {
	ctx, n := watchNested(ctx)
	return ctx, n.take
}
