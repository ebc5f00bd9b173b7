#!/bin/bash
# The `mailserver` supervisord program, like docker-mailserver's start-mailserver.sh: configure the
# container from its environment and /tmp/docker-mailserver, start the other programs, then follow the
# mail log (so `docker logs` shows it).
#
# Environment: LAB_ROLE (mailserver | dest), OVERRIDE_HOSTNAME, PERMIT_DOCKER (none | container |
# network | connected-networks), RELAY_HOST + RELAY_PORT (DMS semantics: every mail domain gets
# "@domain [RELAY_HOST]:RELAY_PORT" in /etc/postfix/relayhost_map), ENABLE_AMAVIS (DMS semantics, default 1;
# 0: no amavis and no content filter), LAB_EXPORTERS (mail server: 0 starts no exporters; default 1),
# LAB_DISCARD (dest: addresses whose mail is discarded, comma separated). The fleet bench's lighter mail
# servers set ENABLE_AMAVIS=0 and LAB_EXPORTERS=0.
# Files: /tmp/docker-mailserver/postfix-accounts.cf ("user@domain|{SCHEME}hash"),
# postfix-sasl-password.cf (lines for /etc/postfix/sasl_passwd), postfix-relaymap.cf (optional: extra
# "@domain [host]:port" lines, or a bare "@domain" to exclude a domain), /etc/dms/tls/{cert,key}.pem.
set -euo pipefail
log() { printf '%s [ INF ] %s\n' "$(date '+%F %T')" "$*"; }
die() { printf '%s [ ERR ] %s\n' "$(date '+%F %T')" "$*"; exit 1; }

role=${LAB_ROLE:-mailserver}
cfg=/tmp/docker-mailserver
share=/usr/local/share/lab/postfix
rm -f /var/lib/lab/ready
echo "$role" > /etc/lab/role
fqdn=${OVERRIDE_HOSTNAME:-$(hostname -f)}
domain=${fqdn#*.}
log "configuring $role as $fqdn"

# --- logging ---------------------------------------------------------------------------------------
mkdir -p /var/log/mail
touch /var/log/mail/mail.log
chown root:adm /var/log/mail/mail.log
chmod 0640 /var/log/mail/mail.log
ln -sf /var/log/mail/mail.log /var/log/mail.log
supervisorctl start rsyslog >/dev/null

# --- TLS -------------------------------------------------------------------------------------------
[ -s /etc/dms/tls/cert.pem ] && [ -s /etc/dms/tls/key.pem ] || die "missing /etc/dms/tls/cert.pem or key.pem"
chown root:root /etc/dms/tls/key.pem
chmod 0600 /etc/dms/tls/key.pem

# --- accounts: Dovecot userdb + Postfix vhost/vmailbox ----------------------------------------------
[ -s "$cfg/postfix-accounts.cf" ] || die "missing $cfg/postfix-accounts.cf"
: > /etc/dovecot/userdb
: > /etc/postfix/vmailbox
: > /etc/postfix/virtual
domains=()
while IFS='|' read -r user hash _; do
  [ -z "$user" ] || [ "${user:0:1}" = '#' ] && continue
  d=${user#*@}; n=${user%@*}
  echo "$user:$hash:5000:5000::/var/mail/$d/$n::" >> /etc/dovecot/userdb
  echo "$user $d/$n/" >> /etc/postfix/vmailbox
  [[ " ${domains[*]} " == *" $d "* ]] || domains+=("$d")
  mkdir -p "/var/mail/$d/$n"
done < "$cfg/postfix-accounts.cf"
chown root:dovecot /etc/dovecot/userdb
chmod 0640 /etc/dovecot/userdb
chown -R docker:docker /var/mail
printf '%s\n' "${domains[@]}" > /etc/postfix/vhost
log "mail domains: ${domains[*]}"

# --- Postfix ---------------------------------------------------------------------------------------
cp "$share/main.cf.$role" /etc/postfix/main.cf
cp "$share/master.cf.$role" /etc/postfix/master.cf
postconf -e "myhostname = $fqdn" "mydomain = $domain"

if [ "$role" = mailserver ]; then
  # PERMIT_DOCKER as in DMS (none clears mynetworks down to loopback)
  case "${PERMIT_DOCKER:-none}" in
    none) nets="127.0.0.0/8" ;;
    container) nets="127.0.0.0/8 $(ip -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1)/32" ;;
    network) nets="127.0.0.0/8 172.16.0.0/12" ;;
    connected-networks) nets="127.0.0.0/8 $(ip -o -4 addr show | awk '$2 != "lo" {print $4}' | tr '\n' ' ')" ;;
    *) die "PERMIT_DOCKER=${PERMIT_DOCKER} is not supported by the lab" ;;
  esac
  postconf -e "mynetworks = $nets"
  # DMS: without amavis, mail is not handed to a content filter.
  [ "${ENABLE_AMAVIS:-1}" = 0 ] && postconf -e "content_filter ="

  # Relay host (DMS: RELAY_HOST / RELAY_PORT + postfix-sasl-password.cf + postfix-relaymap.cf)
  if [ -n "${RELAY_HOST:-}" ]; then
    : > /etc/postfix/relayhost_map
    for d in "${domains[@]}"; do
      if [ -f "$cfg/postfix-relaymap.cf" ] && grep -Eq "^@$d\s*$" "$cfg/postfix-relaymap.cf"; then continue; fi
      echo "@$d [${RELAY_HOST}]:${RELAY_PORT:-25}" >> /etc/postfix/relayhost_map
    done
    if [ -f "$cfg/postfix-relaymap.cf" ]; then
      grep -E '^@\S+\s+\S+' "$cfg/postfix-relaymap.cf" >> /etc/postfix/relayhost_map || true
    fi
    (umask 077; : > /etc/postfix/sasl_passwd)
    if [ -f "$cfg/postfix-sasl-password.cf" ]; then
      grep -Ev '^\s*(#|$)' "$cfg/postfix-sasl-password.cf" >> /etc/postfix/sasl_passwd || true
    fi
    chown root:root /etc/postfix/sasl_passwd
    chmod 0600 /etc/postfix/sasl_passwd
    postconf -e \
      "sender_dependent_relayhost_maps = texthash:/etc/postfix/relayhost_map" \
      "smtp_sasl_auth_enable = yes" \
      "smtp_sasl_security_options = noanonymous" \
      "smtp_sasl_password_maps = texthash:/etc/postfix/sasl_passwd" \
      "smtp_sender_dependent_authentication = yes" \
      "smtp_tls_security_level = encrypt" \
      "smtp_tls_note_starttls_offer = yes"
    log "relay: $(tr '\n' ';' < /etc/postfix/relayhost_map)"
  fi
fi

if [ "$role" = dest ]; then
  : > /etc/postfix/transport
  IFS=',' read -r -a discard <<< "${LAB_DISCARD:-}"
  for a in "${discard[@]}"; do [ -n "$a" ] && echo "$a discard:" >> /etc/postfix/transport; done
fi

postfix check || die "postfix check failed"

# --- SSH client files for the relay (mail server only; as the seed runbook uses them) ----------------
if [ -d /home/cloudrelay/.ssh ]; then
  chown -R root:root /home/cloudrelay/.ssh
  chmod 0700 /home/cloudrelay/.ssh
  [ -f /home/cloudrelay/.ssh/id_rsa ] && chmod 0600 /home/cloudrelay/.ssh/id_rsa
fi

# --- start the services ----------------------------------------------------------------------------
programs="cron dovecot postfix"
if [ "$role" = mailserver ]; then
  programs="cron dovecot"
  [ "${ENABLE_AMAVIS:-1}" = 0 ] || programs="$programs amavis"
  programs="$programs postfix"
  [ "${LAB_EXPORTERS:-1}" = 0 ] || programs="$programs postfix-exporter smtp-probes"
fi
if [ "$role" = dest ]; then
  ln -sf /etc/lab/dns/supervisor.conf /etc/supervisor/conf.d/lab-dns.conf
  supervisorctl reread >/dev/null && supervisorctl add dnsmasq >/dev/null || die "could not add dnsmasq"
  programs="cron dovecot postfix dnsmasq"
fi
for p in $programs; do supervisorctl start "$p" >/dev/null || die "could not start $p"; done
touch /var/lib/lab/ready
log "$fqdn is up and running"
exec tail -Fn 0 /var/log/mail/mail.log
