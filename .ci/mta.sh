#!/usr/bin/env bash
# A real MTA for the notification test (internal/notify, TestRealMTA):
# Debian's Postfix, listening on 127.0.0.1:2525 only, accepting mail for
# the domain flare.test and delivering every recipient's into one Maildir
# (/var/mail/flare-ci/inbox/). Installs Postfix and swaks when missing.
set -euo pipefail
if ! command -v postfix >/dev/null 2>&1 || ! command -v swaks >/dev/null 2>&1; then
  apt-get update -qq
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string flare.test" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix swaks >/dev/null
fi
postconf -e "myhostname = mta.flare.test" "mydestination = localhost" \
  "inet_interfaces = loopback-only" "inet_protocols = ipv4" \
  "virtual_mailbox_domains = flare.test" "virtual_mailbox_base = /var/mail/flare-ci" \
  "virtual_mailbox_maps = static:inbox/" "virtual_uid_maps = static:5000" "virtual_gid_maps = static:5000" \
  "maillog_file = /var/log/postfix-flare-ci.log" "smtpd_relay_restrictions = reject_unauth_destination" \
  "default_transport = error:CI delivers nothing off this machine" "relay_transport = error:CI delivers nothing off this machine"
postconf -MX smtp/inet                      # nothing on port 25
postconf -M 2525/inet="2525 inet n - n - - smtpd"
install -d -o 5000 -g 5000 /var/mail/flare-ci
if postfix status >/dev/null 2>&1; then postfix reload >/dev/null 2>&1; else postfix start >/dev/null 2>&1; fi
# Ready when it takes a recipient (swaks: a real SMTP client).
for _ in $(seq 1 30); do
  swaks --server 127.0.0.1:2525 --from ci@flare.test --to probe@flare.test --quit-after RCPT >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "postfix did not come up on 127.0.0.1:2525" >&2
tail -20 /var/log/postfix-flare-ci.log >&2 || true
exit 1
