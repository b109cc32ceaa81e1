package main

import (
	"crypto/tls"
	"flag"
	"os"
	"strconv"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/mail"
)

// mailFlags are serve's (and demo's) email and attachment flags.
type mailFlags struct {
	smtpAddr, smtpCert, smtpKey *string
	smtpMax                     *int64
	smtpRcpts                   *int
	imapURL, imapMove           *string
	attachDir                   *string
}

func addMailFlags(fs *flag.FlagSet) *mailFlags {
	mf := &mailFlags{}
	mf.smtpAddr = fs.String("smtp-addr", envOr("FLARE_SMTP_ADDR", ""), "listen for incoming mail on this address, e.g. :2525 (FLARE_SMTP_ADDR); off when empty")
	mf.smtpCert = fs.String("smtp-cert", envOr("FLARE_SMTP_CERT", ""), "TLS certificate (PEM) offered with STARTTLS on the SMTP listener (FLARE_SMTP_CERT)")
	mf.smtpKey = fs.String("smtp-key", envOr("FLARE_SMTP_KEY", ""), "its private key (PEM) (FLARE_SMTP_KEY)")
	mf.smtpMax = fs.Int64("smtp-max-bytes", 30<<20, "largest message the SMTP listener accepts (552 above)")
	mf.smtpRcpts = fs.Int("smtp-max-recipients", 50, "most recipients of one message")
	mf.imapURL = fs.String("imap-url", envOr("FLARE_IMAP_URL", ""),
		"poll this IMAP mailbox, imaps://user@host/INBOX; the password is "+mail.PasswordEnv+" (FLARE_IMAP_URL)")
	mf.imapMove = fs.String("imap-move", "", "move processed mail to this IMAP mailbox instead of marking it \\Seen")
	mf.attachDir = fs.String("attachments-dir", envOr("FLARE_ATTACHMENTS_DIR", ""),
		"directory for attachments larger than 256 KiB (FLARE_ATTACHMENTS_DIR); empty: all in the database")
	return mf
}

// apply puts the flags into the app's options.
func (mf *mailFlags) apply(opt *app.Options) error {
	opt.Attachments.Dir = *mf.attachDir
	if *mf.attachDir != "" {
		if err := os.MkdirAll(*mf.attachDir, 0o750); err != nil {
			return usageError{"--attachments-dir: " + err.Error()}
		}
	}
	l := &opt.Mail
	l.SMTP = mail.SMTPOptions{Addr: *mf.smtpAddr, MaxMessageBytes: *mf.smtpMax, MaxRecipients: *mf.smtpRcpts}
	switch {
	case (*mf.smtpCert == "") != (*mf.smtpKey == ""):
		return usageError{"--smtp-cert and --smtp-key go together"}
	case *mf.smtpCert != "":
		cert, err := tls.LoadX509KeyPair(*mf.smtpCert, *mf.smtpKey)
		if err != nil {
			return usageError{"--smtp-cert/--smtp-key: " + err.Error()}
		}
		l.SMTP.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if *mf.smtpMax <= 0 || *mf.smtpRcpts <= 0 {
		return usageError{"--smtp-max-bytes and --smtp-max-recipients must be positive, not " +
			strconv.FormatInt(*mf.smtpMax, 10) + " and " + strconv.Itoa(*mf.smtpRcpts)}
	}
	if *mf.imapURL != "" {
		if _, err := mail.ParseIMAPURL(*mf.imapURL); err != nil {
			return usageError{"--imap-url: " + err.Error()}
		}
		l.IMAP = mail.IMAPOptions{URL: *mf.imapURL, Password: os.Getenv(mail.PasswordEnv), Move: *mf.imapMove}
	}
	return nil
}
