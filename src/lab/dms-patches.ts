/**
 * The patches that make docker-mailserver 15.1.0's release tree build offline on the lab's debootstrapped
 * bookworm base with Debian's docker.io 20.10 (classic builder, no BuildKit, no registry, no internet
 * beyond the Debian mirror). Pure text edits, applied at build time to an extracted copy: the vendored
 * archive stays untouched. Each patch finds its anchor text exactly once or throws, so a different
 * archive is noticed instead of silently built half-patched. docs/lab.md lists them with their reasons.
 */

export interface DmsPatch {
  name: string;
  /** File of the release tree the patch edits, relative to its root. */
  file: 'Dockerfile' | 'target/scripts/build/packages.sh';
  reason: string;
  apply: (text: string) => string;
}

/** Replaces `anchor` (which must occur exactly once) with `replacement`. */
export function replaceOnce(
  text: string,
  anchor: string | RegExp,
  replacement: string,
  patch: string,
): string {
  const matches =
    typeof anchor === 'string'
      ? text.split(anchor).length - 1
      : [
          ...text.matchAll(
            new RegExp(anchor.source, anchor.flags.includes('g') ? anchor.flags : anchor.flags + 'g'),
          ),
        ].length;
  if (matches !== 1) {
    throw new Error(
      `DMS patch '${patch}': expected its anchor exactly once, found it ${matches} times: ${String(anchor).slice(0, 120)}` +
        ' (is this the docker-mailserver 15.1.0 release archive?)',
    );
  }
  return typeof anchor === 'string'
    ? text.replace(anchor, () => replacement)
    : text.replace(anchor, replacement);
}

/** A bash function's whole definition, from `function NAME() {` to its closing `}` at column 0. */
function bashFunction(name: string): RegExp {
  return new RegExp(`function ${name}\\(\\) \\{\\n[\\s\\S]*?\\n\\}\\n`);
}

/**
 * Rewrites BuildKit heredoc blocks (`RUN <<EOF ... EOF`) into plain `RUN a && b && ...` chains, which the
 * classic builder understands. The Dockerfile's SHELL is `bash -e -o pipefail -c`, as for the heredocs,
 * so `&&` changes nothing. Comment lines are dropped. A body with a compound command (for/if/while) cannot
 * be chained line by line: it throws, and needs a patch of its own first.
 */
export function heredocsToRunChains(text: string, patch = 'heredocs-to-run-chains'): string {
  let count = 0;
  const out = text.replace(/^RUN <<EOF\n([\s\S]*?)\nEOF$/gm, (_block, body: string) => {
    count++;
    const commands = body
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const c of commands) {
      if (/^(for|if|while|until|case)\b|\b(do|then)$|\\$/.test(c))
        throw new Error(`DMS patch '${patch}': a heredoc has a compound command, chain it by hand: ${c}`);
    }
    if (commands.length === 0) throw new Error(`DMS patch '${patch}': an empty heredoc`);
    return `RUN ${commands.join(' \\\n && ')}`;
  });
  if (count === 0) throw new Error(`DMS patch '${patch}': no RUN <<EOF heredoc found`);
  if (/<<EOF/.test(out)) throw new Error(`DMS patch '${patch}': a heredoc is left that it could not rewrite`);
  return out;
}

/** The patches, in the order they are applied (the heredoc rewrite last: earlier ones edit heredoc bodies). */
export function dmsPatches(baseImage: string): DmsPatch[] {
  return [
    {
      name: 'drop-syntax-directive',
      file: 'Dockerfile',
      reason:
        'The `# syntax=docker.io/docker/dockerfile:1` line asks BuildKit for a frontend image from a registry; ' +
        'the classic builder reads it as a comment, but it says something untrue about how the image is built.',
      apply: (t) => replaceOnce(t, /^# syntax=.*\n/m, '', 'drop-syntax-directive'),
    },
    {
      name: 'from-lab-base',
      file: 'Dockerfile',
      reason:
        `No registry is reachable: build FROM the lab's debootstrapped bookworm image (${baseImage}) instead of ` +
        'docker.io/debian:12-slim, and give it a /usr/sbin/policy-rc.d that exits 101 so package scripts do not ' +
        'start daemons during the build (debian:12-slim images carry no init system that would refuse).',
      apply: (t) =>
        replaceOnce(
          t,
          'FROM docker.io/debian:12-slim AS stage-base\n',
          `FROM ${baseImage} AS stage-base\n` +
            "RUN printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d\n",
          'from-lab-base',
        ),
    },
    {
      name: 'clamav-database-offline',
      file: 'Dockerfile',
      reason:
        'The ClamAV signatures are copied from the docker.io/clamav/clamav-debian image (a registry, and ' +
        '`COPY --link` is BuildKit-only): create an empty /var/lib/clamav owned by uid 200 instead. The lab ' +
        'runs with ENABLE_CLAMAV=0.',
      apply: (t) =>
        replaceOnce(
          t,
          /^COPY --link --chown=200 --from=docker\.io\/clamav\/clamav-debian:latest \/var\/lib\/clamav \/var\/lib\/clamav$/m,
          'RUN mkdir -p /var/lib/clamav && chown 200 /var/lib/clamav',
          'clamav-database-offline',
        ),
    },
    {
      name: 'fts-xapian-from-debian',
      file: 'Dockerfile',
      reason:
        'The stage-compile stage downloads the fts-xapian sources from GitHub and builds a .deb (the classic ' +
        "builder builds every stage, used or not): drop the stage and install Debian's binary " +
        '`dovecot-fts-xapian` package instead.',
      apply: (t) => {
        const noStage = replaceOnce(
          t,
          /^FROM stage-base AS stage-compile\n[\s\S]*?^RUN \/bin\/bash \/build\/compile\.sh\n/m,
          '',
          'fts-xapian-from-debian',
        );
        return replaceOnce(
          noStage,
          'COPY --from=stage-compile dovecot-fts-xapian-*.deb /\nRUN dpkg -i /dovecot-fts-xapian-*.deb && rm /dovecot-fts-xapian-*.deb\n',
          'RUN apt-get -qq update && apt-get -qq install --no-install-recommends dovecot-fts-xapian' +
            ' && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin\n',
          'fts-xapian-from-debian',
        );
      },
    },
    {
      name: 'no-kam-key-download',
      file: 'Dockerfile',
      reason:
        'The SpamAssassin KAM channel key is fetched with curl from mcgrail.com (internet): drop the fetch; ' +
        'sa-update for that channel is off in the lab (ENABLE_SPAMASSASSIN_KAM unset).',
      apply: (t) =>
        replaceOnce(
          t,
          /^ {2}curl -sSfLo \/etc\/spamassassin\/kam\/\S+ https:\/\/mcgrail\.com\/\S+\n/m,
          '',
          'no-kam-key-download',
        ),
    },
    {
      name: 'postgrey-whitelist-from-debian',
      file: 'Dockerfile',
      reason:
        "The postgrey client whitelist is fetched from GitHub (internet): drop the fetch; Debian's postgrey " +
        'package already ships /etc/postgrey/whitelist_clients.',
      apply: (t) =>
        replaceOnce(
          t,
          /^ {2}curl -Lsfo \/etc\/postgrey\/whitelist_clients https:\/\/raw\.githubusercontent\.com\/\S+\n/m,
          '',
          'postgrey-whitelist-from-debian',
        ),
    },
    {
      name: 'razor-best-effort',
      file: 'Dockerfile',
      reason:
        '`razor-admin -register` needs the internet and is retried ten times, failing the build: only ' +
        'create the razor home (`-create`), bounded to 60 s, failure allowed.',
      apply: (t) =>
        replaceOnce(
          t,
          /^RUN <<EOF\n {2}for _ in \{1\.\.10\}; do\n {4}su - amavis -c "razor-admin -create"\n[\s\S]*?\n {2}exit \$\{EC\}\nEOF\n/m,
          'RUN su - amavis -c "timeout 60 razor-admin -create" || true\n',
          'razor-best-effort',
        ),
    },
    {
      name: 'heredocs-to-run-chains',
      file: 'Dockerfile',
      reason:
        'The classic builder (docker.io 20.10, no buildx in bookworm) rejects `RUN <<EOF` heredocs: each ' +
        'becomes one `RUN a && b && ...` chain (same shell, bash -e -o pipefail).',
      apply: (t) => heredocsToRunChains(t),
    },
    {
      name: 'utils-from-debian',
      file: 'target/scripts/build/packages.sh',
      reason:
        "`jaq`, `step` and `swaks` are downloaded from GitHub releases (internet): install Debian's `jq` " +
        "(linked as /usr/local/bin/jaq, used only by the update check, which the lab turns off) and Debian's " +
        '`swaks` (with perl-doc, as upstream); skip `step` (used only for self-signed certificates, the lab ' +
        'brings its own).',
      apply: (t) =>
        replaceOnce(
          t,
          bashFunction('_install_utils'),
          [
            'function _install_utils() {',
            "  _log 'debug' 'Installing utils from Debian (lab build: no GitHub downloads)'",
            '  apt-get "${QUIET}" install --no-install-recommends jq swaks perl-doc',
            '  ln -s /usr/bin/jq /usr/local/bin/jaq',
            '}',
            '',
          ].join('\n'),
          'utils-from-debian',
        ),
    },
    {
      name: 'no-rspamd-repo',
      file: 'target/scripts/build/packages.sh',
      reason:
        "Rspamd is installed from rspamd.com's apt repository (internet): skip it. The lab runs with " +
        'ENABLE_RSPAMD=0 and amavis as the content filter.',
      apply: (t) => replaceOnce(t, /^_install_rspamd\n/m, '', 'no-rspamd-repo'),
    },
    {
      name: 'fail2ban-from-debian',
      file: 'target/scripts/build/packages.sh',
      reason:
        'Fail2ban 1.1.0 is downloaded from GitHub and its signature checked against a keyserver (internet): ' +
        "install Debian's fail2ban 1.0.2 instead, keep upstream's nftables patch, and remove Debian's " +
        'jail.d/defaults-debian.conf, whose sshd jail has no log file in a container and makes ' +
        'fail2ban-server crash-loop.',
      apply: (t) =>
        replaceOnce(
          t,
          bashFunction('_install_fail2ban'),
          [
            'function _install_fail2ban() {',
            "  _log 'debug' 'Installing Fail2ban from Debian (lab build)'",
            '  apt-get "${QUIET}" install --no-install-recommends python3-pyinotify python3-dnspython python3-systemd fail2ban',
            '  rm -f /etc/fail2ban/jail.d/defaults-debian.conf',
            "  sedfile -i -r 's/^_nft_add_set = .+/_nft_add_set = <nftables> add set <table_family> <table> <addr_set> \\\\{ type <addr_type>\\\\; flags interval\\\\; \\\\}/' /etc/fail2ban/action.d/nftables.conf",
            '}',
            '',
          ].join('\n'),
          'fail2ban-from-debian',
        ),
    },
  ];
}

/** Applies every patch to the files it names; returns the patched texts. */
export function applyDmsPatches(
  sources: Record<DmsPatch['file'], string>,
  baseImage: string,
): Record<DmsPatch['file'], string> {
  const out = { ...sources };
  for (const patch of dmsPatches(baseImage)) out[patch.file] = patch.apply(out[patch.file]);
  return out;
}
