package cases_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// Search finds a case by everything a person looks it up by, folds accents
// in every language both ways, counts, and quotes escaped snippets.
func TestSearchKinds(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		mk := func(title, desc, seller, name, email string, fields map[string]any) *cases.Case {
			t.Helper()
			in := lostParcel()
			in.Title, in.Description, in.SellerID = title, desc, seller
			in.Fields = map[string]any{"order_id": "ORD-1", "tracking_number": "TR-1", "carrier": "DPD"}
			for k, v := range fields {
				in.Fields[k] = v
			}
			in.Requester = &cases.Requester{Name: name, Email: email}
			c, err := f.svc.Create(ctx, admin, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		fr := mk("Colis endommagé à la livraison", "Le carton était déchiré", "S-1001", "Hélène Dubois", "helene.dubois@example.fr", map[string]any{"order_id": "ORD-551234"})
		de := mk("Kühlschrank beschädigt", "Tür lässt sich nicht schließen", "S-2001", "Jürgen Weiß", "juergen@example.de", nil)
		pl := mk("Paczka zaginęła", "Kurier twierdzi, że doręczył przesyłkę", "S-1002", "Łukasz Żółć", "lukasz.zolc@example.pl", map[string]any{"tracking_number": "JD00998877"})
		es := mk("Pedido dañado", "La caja llegó mojada", "S-3001", "José Muñoz", "jose@example.es", nil)
		xss := mk(`Broken <script>alert(1)</script> lamp`, `<img src=x onerror=alert(2)> lamp`, "S-3002", "Eve", "eve@example.com", nil)
		if _, err := f.svc.AddComment(ctx, admin, de.Number, cases.CommentInput{Body: "Kunde schickt Fotos vom Scharnier"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddComment(ctx, admin, es.Number, cases.CommentInput{Body: "Vendedor sospechoso: revisar reembolso", Internal: true}); err != nil {
			t.Fatal(err)
		}

		search := func(q string) *cases.Page {
			t.Helper()
			p, err := f.svc.List(ctx, admin, cases.ListFilter{Q: q, Count: true})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			return p
		}
		for _, tc := range []struct {
			kind, q string
			want    *cases.Case
		}{
			{"word in the title", "endommagé", fr},
			{"accent folded (FR)", "endommage", fr},
			{"accent folded (DE)", "kuhlschrank beschadigt", de},
			{"accent in the query, none in the text (DE)", "Kühlschränk", de},
			{"accent folded (PL)", "zaginela", pl},
			{"Polish letters in a name", "lukasz zolc", pl},
			{"accent folded (ES)", "danado", es},
			{"description", "dechire", fr},
			{"ß spelled out (DE)", "Jürgen Weiss", de},
			{"requester name", "Jurgen", de},
			{"requester email", "lukasz.zolc@example.pl", pl},
			{"seller id", "S-2001", de},
			{"seller name", "Brooklyn Outfitters", es},
			{"custom field value", "ORD-551234", fr},
			{"tracking number", "JD00998877", pl},
			{"public comment", "scharnier", de},
			{"internal note, seen by an agent", "sospechoso", es},
			{"number with the prefix", pl.Number, pl},
			{"number without the prefix", strings.TrimPrefix(pl.Number, "ESC-"), pl},
			{"no such word", "zebra", nil},
		} {
			p := search(tc.q)
			if tc.want == nil {
				if len(p.Cases) != 0 || *p.Total != 0 {
					t.Errorf("%s: %q found %d cases", tc.kind, tc.q, len(p.Cases))
				}
				continue
			}
			if len(p.Cases) != 1 || p.Cases[0].ID != tc.want.ID || *p.Total != 1 {
				t.Errorf("%s: %q found %d cases (total %v), want %s", tc.kind, tc.q, len(p.Cases), *p.Total, tc.want.Number)
			}
		}

		// Snippets mark the words and keep the text inert.
		p := search("lamp")
		snip := p.Snippets[xss.Number]
		if !strings.Contains(snip, "<mark>lamp</mark>") || strings.Contains(snip, "<script") || strings.Contains(snip, "<img") {
			t.Fatalf("snippet not escaped or not marked: %q", snip)
		}
		if s := strings.ReplaceAll(strings.ReplaceAll(snip, "<mark>", ""), "</mark>", ""); strings.ContainsAny(s, "<>") {
			t.Fatalf("snippet holds markup besides <mark>: %q", snip)
		}
		if snip := search("kuhlschrank").Snippets[de.Number]; !strings.Contains(snip, "<mark>Kühlschrank</mark>") {
			t.Fatalf("accent-folded match marks the word as written: %q", snip)
		}

		// An account manager matches the public side only.
		sophie := f.actor("sophie.martin")
		for q, want := range map[string]int{"sospechoso": 0, "danado": 1} {
			p, err := f.svc.List(ctx, sophie, cases.ListFilter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Cases) != want {
				t.Errorf("account manager searching %q: %d cases, want %d", q, len(p.Cases), want)
			}
		}

		// A change to the text is searched at once.
		name := "Hélène Lefèvre"
		if _, err := f.svc.Update(ctx, admin, fr.Number, cases.UpdateInput{Requester: &cases.Requester{Name: name, Email: "helene.dubois@example.fr"}}); err != nil {
			t.Fatal(err)
		}
		if len(search("lefevre").Cases) != 1 || len(search("dubois helene").Cases) != 1 {
			t.Fatal("changed requester not searched")
		}
		// Every word must match, in any field.
		if got := search("jurgen scharnier kuhlschrank").Cases; len(got) != 1 {
			t.Fatalf("words across fields: %d cases", len(got))
		}
	})
}

// An address is found as typed, whole or in part, in any case's text; its
// short and common words (de, v, o, f, example) alone do not make a match;
// and a name finds every case with it.
func TestSearchEmail(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		mk := func(name, email, desc string) *cases.Case {
			t.Helper()
			in := lostParcel()
			in.SellerID = "S-3001"
			in.Description = desc
			in.Requester = &cases.Requester{Name: name, Email: email}
			c, err := f.svc.Create(ctx, admin, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		exact := mk("Anouk Bakker", "anouk.bakker@de-kaasmarkt-v-o-f.example", "Parcel never arrived")
		other := mk("Anouk Bakker", "anouk.bakker@kaasmarkt.example", "Parcel never arrived")
		// Every word of exact's address, but not the address.
		scattered := mk("Anouk Bakker", "a.bakker@post.example", "Ordered at De Kaasmarkt V.O.F., an example shop")
		inText := mk("Piet Jansen", "piet@jansen.example", "Forwarded from Anouk.Bakker@De-Kaasmarkt-V-O-F.example about the order")
		noted := mk("Kees Visser", "kees@visser.example", "Parcel never arrived")
		if _, err := f.svc.AddComment(ctx, admin, noted.Number, cases.CommentInput{Body: "Same buyer as anouk.bakker@kaasmarkt.example?", Internal: true}); err != nil {
			t.Fatal(err)
		}

		numbers := func(cs ...*cases.Case) string {
			var n []string
			for _, c := range cs {
				n = append(n, c.Number)
			}
			slices.Sort(n)
			return strings.Join(n, " ")
		}
		search := func(a auth.Actor, q, sort string) *cases.Page {
			t.Helper()
			p, err := f.svc.List(ctx, a, cases.ListFilter{Q: q, Sort: sort, Count: true})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			return p
		}
		all := numbers(exact, other, scattered, inText, noted)
		for _, tc := range []struct {
			kind, q string
			want    string
		}{
			{"an address", "anouk.bakker@de-kaasmarkt-v-o-f.example", numbers(exact, inText)},
			{"an address in capitals", "ANOUK.BAKKER@DE-KAASMARKT-V-O-F.EXAMPLE", numbers(exact, inText)},
			{"an address as pasted from a header", "<anouk.bakker@de-kaasmarkt-v-o-f.example>,", numbers(exact, inText)},
			{"another domain", "anouk.bakker@kaasmarkt.example", numbers(other, noted)},
			{"the start of an address", "anouk.bakker@", numbers(exact, other, inText, noted)},
			{"a partial address", "bakker@de-kaasmarkt", numbers(exact, inText)},
			{"an address and a word", "anouk.bakker@kaasmarkt.example buyer", numbers(noted)},
			{"an address's words without @", "anouk.bakker", all},
			{"a name", "Anouk Bakker", all},
			{"an address of short words only", "v@o.f", ""},
			{"no such address", "anouk.bakker@example.example", ""},
		} {
			for _, sort := range []string{"", "priority"} { // driven by the index, and not
				p := search(admin, tc.q, sort)
				if got := numbers(p.Cases...); got != tc.want || *p.Total != len(p.Cases) {
					t.Errorf("%s (sort %q): %q found %s (total %d), want %s", tc.kind, sort, tc.q, got, *p.Total, tc.want)
				}
			}
		}
		if snip := search(admin, "anouk.bakker@de-kaasmarkt-v-o-f.example", "").Snippets[exact.Number]; !strings.Contains(snip, "<mark>") {
			t.Errorf("an address's snippet marks nothing: %q", snip)
		}
		// The public side: an address in an internal note is not found.
		sophie := f.actor("sophie.martin")
		if got, want := numbers(search(sophie, "anouk.bakker@kaasmarkt.example", "").Cases...), numbers(other); got != want {
			t.Errorf("account manager: found %s, want %s", got, want)
		}
	})
}

// A search's pages, in the search's order and another, walk every match
// once, with the other filters, and the count is the same on every page.
func TestSearchPages(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		var want []string
		for i := range 7 {
			in := lostParcel()
			in.Title = fmt.Sprintf("Kühlschrank %d beschädigt", i)
			if i%3 == 2 {
				in.Market = "DE" // filtered out below
			}
			c, err := f.svc.Create(ctx, admin, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i%3 != 2 {
				want = append(want, c.Number)
			}
		}
		slices.Sort(want)
		for _, sort := range []string{"", "priority", "created_at"} {
			lf := cases.ListFilter{Q: "kuhlschrank", Market: []string{"GB"}, Sort: sort, Limit: 2, Count: true}
			var got []string
			for range 10 {
				p, err := f.svc.List(ctx, admin, lf)
				if err != nil {
					t.Fatal(err)
				}
				if *p.Total != len(want) {
					t.Fatalf("sort %q: total %d, want %d", sort, *p.Total, len(want))
				}
				for _, c := range p.Cases {
					got = append(got, c.Number)
				}
				if p.NextCursor == "" {
					break
				}
				lf.Cursor = p.NextCursor
			}
			slices.Sort(got)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("sort %q: pages hold %v, want %v", sort, got, want)
			}
		}
	})
}
