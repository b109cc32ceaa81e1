package notify_test

import (
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/notify"
)

// The notifications section: decoded strictly, validated with paths,
// canonical, and round-tripping through export.
func TestSettingsSection(t *testing.T) {
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	good := string(desk.ExampleYAML) + `
notifications:
  base_url: https://flare.example.com/
  email:
    smtp_host: SMTP.Example.com
    smtp_port: 587
    security: starttls
    username: flare@example.com
    from: "Flare <flare@example.com>"
`
	cfg, err := schema.Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	s := desk.Get(cfg, notify.SettingsKey)
	if s.BaseURL != "https://flare.example.com" || !s.Mail() || s.Email.Host != "smtp.example.com" {
		t.Fatalf("canonical: %+v %+v", s, s.Email)
	}
	out, err := desk.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := schema.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if out2, _ := desk.Marshal(again); string(out2) != string(out) {
		t.Fatal("export does not round-trip")
	}
	bad := string(desk.ExampleYAML) + `
notifications:
  base_url: "ftp://x"
  email:
    smtp_host: "smtp.example.com:587"
    smtp_port: 70000
    security: ssl
    from: nobody
`
	_, err = schema.Parse([]byte(bad))
	for _, field := range []string{"notifications.base_url", "notifications.email.smtp_host", "notifications.email.smtp_port",
		"notifications.email.security", "notifications.email.from"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("no problem for %s in %v", field, err)
		}
	}
	if _, err := schema.Parse([]byte(string(desk.ExampleYAML) + "\nnotifications:\n  email:\n    smtp_host: x\n    from: a@b.c\n    password: hunter2\n")); err == nil ||
		!strings.Contains(err.Error(), "password") {
		t.Errorf("a password in the desk document is refused: %v", err)
	}
}
