package notify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/flare-desk/flare/internal/notify"
)

// selfSigned is a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// The SMTP mailer speaks STARTTLS (required) and implicit TLS, and
// authenticates with the username and FLARE_SMTP_PASSWORD's password.
func TestSMTPSecurityAndAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	mail := notify.Mail{To: "ana@x.test", ToName: "Ana", Subject: "[ESC-1] Parcel", Text: "hello", HTML: "<p>hello</p>",
		MessageID: "m1@desk.test", InReplyTo: "m0@desk.test", References: []string{"m0@desk.test"}, Case: "ESC-1"}
	for _, mode := range []string{notify.SecuritySTARTTLS, notify.SecurityTLS} {
		t.Run(mode, func(t *testing.T) {
			d := startSMTP(t, func(s *smtp.Server) {
				s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
				s.AllowInsecureAuth = false
			})
			if mode == notify.SecurityTLS { // serve TLS from the first byte on another port
				l, err := tls.Listen("tcp", "127.0.0.1:0", d.srv.TLSConfig)
				if err != nil {
					t.Fatal(err)
				}
				go func() { _ = d.srv.Serve(l) }()
				d.addr = l.Addr().String()
			}
			d.users["flare@desk.test"] = "s3cret"
			host, port, _ := net.SplitHostPort(d.addr)
			p, _ := strconv.Atoi(port)
			set := notify.EmailSettings{Host: host, Port: p, Security: mode, Username: "flare@desk.test", From: "Flare <flare@desk.test>"}
			m := notify.NewSMTP(set, "wrong", time.Now)
			m.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
			if _, err := m.Send(t.Context(), mail); err == nil {
				t.Fatal("a wrong password was accepted")
			}
			m = notify.NewSMTP(set, "s3cret", time.Now)
			m.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
			code, err := m.Send(t.Context(), mail)
			if err != nil || code != 250 {
				t.Fatalf("send: %d %v", code, err)
			}
			got := d.received()
			if len(got) != 1 || !d.tlsUsed[0] || d.authed[0] != "flare@desk.test" {
				t.Fatalf("received %d, tls %v, auth %v", len(got), d.tlsUsed, d.authed)
			}
			h := got[0].Header
			if h.Get("Message-Id") != "<m1@desk.test>" || h.Get("In-Reply-To") != "<m0@desk.test>" || h.Get("References") != "<m0@desk.test>" ||
				!strings.Contains(got[0].HTML, "<p>hello</p>") || strings.TrimSpace(got[0].Text) != "hello" {
				t.Fatalf("message: %v\n%s", h, got[0].Raw)
			}
		})
	}
	// STARTTLS is required: a server without it is refused rather than sent to in the clear.
	d := startSMTP(t, nil)
	host, port, _ := net.SplitHostPort(d.addr)
	p, _ := strconv.Atoi(port)
	m := notify.NewSMTP(notify.EmailSettings{Host: host, Port: p, From: "flare@desk.test"}, "", time.Now)
	if _, err := m.Send(t.Context(), mail); err == nil || len(d.received()) != 0 {
		t.Fatalf("sent without STARTTLS: %v", err)
	}
}
