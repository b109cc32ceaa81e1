package mail

import (
	"context"
	"sync"
)

// Listeners are the ways mail comes in; each is off when its address or
// URL is empty.
type Listeners struct {
	SMTP SMTPOptions
	IMAP IMAPOptions
}

// Start opens the listeners: the SMTP port is listening when it returns
// (or the error says why not), the IMAP poller runs until stop.
func (s *Service) Start(ctx context.Context, l Listeners) (stop func(), err error) {
	var (
		wg      sync.WaitGroup
		closers []func()
	)
	stop = func() {
		for _, c := range closers {
			c()
		}
		wg.Wait()
	}
	if l.SMTP.Addr != "" {
		srv := NewSMTPServer(s, s.log, l.SMTP)
		if err := srv.Listen(); err != nil {
			return nil, err
		}
		s.log.Info("smtp: listening", "addr", srv.Addr(), "starttls", l.SMTP.TLS != nil)
		closers = append(closers, func() { srv.Close() })
		wg.Go(func() {
			if err := srv.Serve(); err != nil {
				s.log.Error("smtp: serve", "err", err)
			}
		})
	}
	if l.IMAP.URL != "" {
		p, err := NewPoller(s, s.log, l.IMAP)
		if err != nil {
			stop()
			return nil, err
		}
		pctx, cancel := context.WithCancel(ctx)
		closers = append(closers, cancel)
		wg.Go(func() { p.Run(pctx) })
	}
	return stop, nil
}
