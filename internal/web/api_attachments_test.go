package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// multipartBody is an upload of files (name → content, declared as ct) and extra fields.
func multipartBody(t *testing.T, files [][3]string, fields map[string]string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f[0]))
		h.Set("Content-Type", f[2])
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return b.String(), mw.FormDataContentType()
}

func TestAttachmentsAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		c := e.do("admin", "POST", "/api/v1/cases", lostParcelBody())
		ref := c.json(t)["number"].(string)
		body, ct := multipartBody(t, [][3]string{
			{"evil.png", "<html><script>alert(document.cookie)</script></html>", "image/png"},
			{"label.pdf", "%PDF-1.4\n%...", "application/pdf"},
		}, nil)
		r := e.do("agent", "POST", "/api/v1/cases/"+ref+"/attachments", body, "Content-Type", ct)
		if r.status != 201 {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		att := r.json(t)["attachments"].([]any)
		html := att[0].(map[string]any)
		if html["content_type"] != "text/html; charset=utf-8" || html["declared_type"] != "image/png" {
			t.Errorf("html sniffed as %v (declared %v)", html["content_type"], html["declared_type"])
		}
		get := e.do("account_manager", "GET", html["url"].(string), nil)
		if get.status != 200 || get.header.Get("Content-Type") != "application/octet-stream" ||
			!strings.HasPrefix(get.header.Get("Content-Disposition"), "attachment;") ||
			get.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(string(get.body), "<script>") {
			t.Errorf("download: %d %v %q", get.status, get.header, get.body)
		}
		pdf := e.do("agent", "GET", att[1].(map[string]any)["url"].(string), nil)
		if pdf.header.Get("Content-Type") != "application/pdf" || pdf.header.Get("Content-Disposition") != `attachment; filename=label.pdf` {
			t.Errorf("pdf download: %v", pdf.header)
		}
		// Internal files: not for account managers, who cannot add them either.
		body, ct = multipartBody(t, [][3]string{{"notes.txt", "desk only", "text/plain"}}, map[string]string{"internal": "true"})
		if r := e.do("account_manager", "POST", "/api/v1/cases/"+ref+"/attachments", body, "Content-Type", ct); r.status != 403 {
			t.Errorf("account manager internal upload: %d %s", r.status, r.body)
		}
		r = e.do("agent", "POST", "/api/v1/cases/"+ref+"/attachments", body, "Content-Type", ct)
		if r.status != 201 {
			t.Fatalf("internal upload: %d %s", r.status, r.body)
		}
		internalURL := r.json(t)["attachments"].([]any)[0].(map[string]any)["url"].(string)
		if r := e.do("account_manager", "GET", internalURL, nil); r.status != 404 {
			t.Errorf("account manager reads an internal file: %d", r.status)
		}
		if r := e.do("account_manager", "GET", "/api/v1/cases/"+ref+"/attachments", nil); len(r.json(t)["attachments"].([]any)) != 2 {
			t.Errorf("account manager lists %s", r.body)
		}
		// Bad uploads: 4xx problems, nothing written.
		exe, exeCT := multipartBody(t, [][3]string{{"setup.exe", "MZ\x90\x00", "application/octet-stream"}}, nil)
		unknown, unknownCT := multipartBody(t, nil, map[string]string{"colour": "red"})
		for name, tc := range map[string][3]any{
			"not multipart": {`{"file":"x"}`, "application/json", 400},
			"blocked type":  {exe, exeCT, 422},
			"no file":       {unknown, unknownCT, 400},
		} {
			r := e.do("agent", "POST", "/api/v1/cases/"+ref+"/attachments", tc[0].(string), "Content-Type", tc[1].(string))
			if r.status != tc[2].(int) || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
		if r := e.do("agent", "GET", "/api/v1/cases/"+ref+"/attachments", nil); len(r.json(t)["attachments"].([]any)) != 3 {
			t.Errorf("after bad uploads: %s", r.body)
		}
	})
}
