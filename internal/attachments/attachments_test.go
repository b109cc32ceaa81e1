package attachments_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

func TestSniff(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, tc := range []struct {
		name, declared, file, want string
		data                       []byte
	}{
		{"png declared as text", "text/plain", "a.png", "image/png", png},
		{"html declared as image", "image/png", "x.png", "text/html; charset=utf-8", []byte("<html><script>alert(1)</script>")},
		{"docx is a zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx",
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document", []byte("PK\x03\x04rest")},
		{"csv keeps its text type", "text/csv", "a.csv", "text/csv", []byte("a,b\n1,2\n")},
		{"svg declared never wins", "image/svg+xml", "a.svg", "text/xml; charset=utf-8", []byte(`<?xml version="1.0"?><svg/>`)},
		{"binary", "", "blob", "application/octet-stream", []byte{0, 1, 2, 3}},
	} {
		if got := attachments.Sniff(tc.data, tc.declared, tc.file); got != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
	for ct, want := range map[string]string{"text/html; charset=utf-8": "application/octet-stream",
		"image/svg+xml": "application/octet-stream", "text/xml; charset=utf-8": "application/octet-stream",
		"application/javascript": "application/octet-stream", "image/png": "image/png", "application/pdf": "application/pdf", "": "application/octet-stream"} {
		if got := attachments.ServeType(ct); got != want {
			t.Errorf("ServeType(%q) = %q, want %q", ct, got, want)
		}
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{"../../etc/passwd": "passwd", `C:\x\report.pdf`: "report.pdf", "": "attachment",
		"a\x00b\r\n.txt": "ab.txt", `"quoted".txt`: "quoted.txt", "...": "attachment", strings.Repeat("é", 150): strings.Repeat("é", 100)} {
		if got := attachments.CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStoreListOpen(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		dir := t.TempDir()
		f.App.Attachments.Configure(attachments.Options{Dir: dir, Limits: attachments.Limits{InlineMax: 1024, MaxFile: 64 << 10, MaxMessage: 100 << 10}})
		svc := f.App.Attachments
		amelia, sophie := f.Actor("amelia.clarke"), f.Actor("sophie.martin")
		seller := "S-1001" // Sophie manages it
		c := f.OwnedCase(t, cases.CreateInput{Title: "Parcel missing", Category: "logistics/lost_parcel", Market: "GB",
			SellerID: seller, Fields: map[string]any{"order_id": "123-4567890-1234567"}})

		small := []byte("a small note\n")
		large := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB: on disk
		got, err := svc.Add(ctx, amelia, c.Number, false, []attachments.Upload{
			{Name: "note.txt", DeclaredType: "text/plain", R: bytes.NewReader(small)},
			{Name: "big.log", R: bytes.NewReader(large)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Add(ctx, amelia, c.Number, true, []attachments.Upload{{Name: "internal.txt", R: strings.NewReader("desk only")}}); err != nil {
			t.Fatal(err)
		}
		// The large file is on disk under its hash, the small one is not.
		if _, err := os.Stat(filepath.Join(dir, got[1].SHA256[:2], got[1].SHA256[2:4], got[1].SHA256)); err != nil {
			t.Errorf("large file not on disk: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, got[0].SHA256[:2])); err == nil {
			t.Errorf("small file written to disk")
		}
		for i, want := range [][]byte{small, large} {
			a, rc, err := svc.Open(ctx, amelia, got[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(b, want) || a.Size != int64(len(want)) {
				t.Errorf("%s: read %d bytes, want %d", a.Filename, len(b), len(want))
			}
		}
		all, err := svc.List(ctx, amelia, c.Number)
		if err != nil || len(all) != 3 {
			t.Fatalf("agent sees %d attachments (%v), want 3", len(all), err)
		}
		pub, err := svc.List(ctx, sophie, c.Number)
		if err != nil || len(pub) != 2 {
			t.Fatalf("account manager sees %d attachments (%v), want 2 (not the internal one)", len(pub), err)
		}
		if _, _, err := svc.Open(ctx, sophie, all[2].ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("account manager opens an internal attachment: %v", err)
		}
		if _, err := svc.Add(ctx, sophie, c.Number, true, []attachments.Upload{{Name: "x.txt", R: strings.NewReader("x")}}); err == nil {
			t.Errorf("account manager added an internal attachment")
		}
		// Someone who cannot see the case sees none of its files.
		if _, _, err := svc.Open(ctx, f.Actor("priya.shah"), all[0].ID); err != nil && !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("priya: %v", err)
		}

		// Limits: too big, a blocked type, too much together; nothing written.
		for name, up := range map[string][]attachments.Upload{
			"too big":  {{Name: "huge.bin", R: bytes.NewReader(make([]byte, 65<<10))}},
			"exe":      {{Name: "setup.exe", R: strings.NewReader("MZ\x90\x00")}},
			"together": {{Name: "a.log", R: bytes.NewReader(large)}, {Name: "b.log", R: bytes.NewReader(large)}},
		} {
			_, err := svc.Add(ctx, amelia, c.Number, false, up)
			var rej *attachments.Rejected
			var inv *apperr.Invalid
			if !errors.As(err, &rej) || !errors.As(err, &inv) {
				t.Errorf("%s: err = %v, want a rejection", name, err)
			}
		}
		if all2, _ := svc.List(ctx, amelia, c.Number); len(all2) != 3 {
			t.Errorf("after rejected uploads: %d attachments, want 3", len(all2))
		}
		evs, err := f.App.Cases.Events(ctx, amelia, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Type == "attachment_added" {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d attachment_added entries, want 3", n)
		}
	})
}
