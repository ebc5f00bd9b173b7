/**
 * The patches that let docker-mailserver 15.1.0 build offline: applied to the real vendored release files
 * they leave no heredoc, no registry image and no internet download; a file whose anchor moved makes them
 * throw, naming the patch, instead of building half-patched.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyDmsPatches, dmsPatches, heredocsToRunChains, replaceOnce } from '../../src/lab/dms-patches.js';
import { DMS_PROGRAMS } from '../../src/commands/dms.js';
import { DMS_VERSION, findDmsArchive, inDmsContext } from '../../src/lab/dms-image.js';

const BASE = 'mail-runbooks/base:bookworm';

/**
 * The vendored release sits beside the project (../shared/vendor) or at $MRB_DMS_ARCHIVE; a clone without
 * it skips the tests that read it, and says so.
 */
const archiveMissing = await findDmsArchive().then(
  () => undefined,
  (err: Error) => err.message,
);
if (archiveMissing)
  console.warn(`lab-dms-patches: skipping the tests on the real release: ${archiveMissing}`);

async function releaseFile(path: string): Promise<string> {
  const archive = await findDmsArchive();
  return execFileSync('tar', ['-xzOf', archive, `docker-mailserver-${DMS_VERSION}/${path}`], {
    encoding: 'utf8',
  });
}

async function release(): Promise<Record<'Dockerfile' | 'target/scripts/build/packages.sh', string>> {
  return {
    Dockerfile: await releaseFile('Dockerfile'),
    'target/scripts/build/packages.sh': await releaseFile('target/scripts/build/packages.sh'),
  };
}

describe('docs/lab.md', () => {
  it('lists every patch with its file', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/lab.md', import.meta.url), 'utf8');
    for (const p of dmsPatches(BASE))
      expect(doc).toMatch(new RegExp(`\\| \`${p.name}\` +\\| \`${p.file}\` +\\|`));
  });
});

describe('findDmsArchive', () => {
  it('without the archive, says where it looked and what to do, including the lab image instead', async () => {
    const err = await findDmsArchive('/nonexistent/clone', {
      MRB_DMS_ARCHIVE: '/nonexistent/dms.tar.gz',
    }).catch((e: Error) => e);
    expect(String(err)).toMatch(/not at \/nonexistent\/dms\.tar\.gz; put it there or set MRB_DMS_ARCHIVE/);
    expect(String(err)).toMatch(/MRB_LAB_MAILSERVER=lab/);
  });
});

describe('replaceOnce', () => {
  it('replaces an anchor found exactly once', () => {
    expect(replaceOnce('a $1 b', '$1', 'X', 'p')).toBe('a X b');
    expect(replaceOnce('x\ny\n', /^y$/m, 'z', 'p')).toBe('x\nz\n');
  });
  it('throws, naming the patch, when the anchor is missing or ambiguous', () => {
    expect(() => replaceOnce('abc', 'zz', 'X', 'my-patch')).toThrow(/my-patch.*0 times/);
    expect(() => replaceOnce('aa', /a/, 'X', 'my-patch')).toThrow(/my-patch.*2 times/);
  });
});

describe('heredocsToRunChains', () => {
  it('turns a heredoc into one RUN chain, without its comments', () => {
    const text = 'FROM x\nRUN <<EOF\n  # why\n  mkdir /a\n\n  chown b /a\nEOF\nCMD ["y"]\n';
    expect(heredocsToRunChains(text)).toBe('FROM x\nRUN mkdir /a \\\n && chown b /a\nCMD ["y"]\n');
  });
  it('refuses compound commands and files without heredocs', () => {
    expect(() => heredocsToRunChains('RUN <<EOF\n  for i in 1 2; do\n    echo $i\n  done\nEOF\n')).toThrow(
      /compound command/,
    );
    expect(() => heredocsToRunChains('RUN true\n')).toThrow(/no RUN <<EOF/);
  });
});

describe.skipIf(archiveMissing)('the DMS 15.1.0 release, patched', () => {
  it('builds with the classic builder, from the lab base, without the internet', async () => {
    const out = applyDmsPatches(await release(), BASE);
    // Instructions only: upstream's comments may still mention what was removed.
    const dockerfile = out.Dockerfile.split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    expect(dockerfile).not.toMatch(
      /<<EOF|--link|# syntax=|curl|docker\.io\/|stage-compile|razor-admin -register/,
    );
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual([BASE, 'stage-base', 'stage-main']);
    expect(dockerfile).toMatch(/policy-rc\.d/);
    expect(dockerfile).toMatch(/install --no-install-recommends dovecot-fts-xapian/);

    const packages = out['target/scripts/build/packages.sh'];
    // Calls at the end of the script: rspamd (its own repository) is no longer called.
    const calls = packages.split('\n').filter((l) => /^_\w+$/.test(l));
    expect(calls).toEqual([
      '_pre_installation_steps',
      '_install_utils',
      '_install_packages',
      '_install_dovecot',
      '_install_fail2ban',
      '_post_installation_steps',
    ]);
    const utils = /function _install_utils\(\) \{[\s\S]*?\n\}/.exec(packages)![0];
    const fail2ban = /function _install_fail2ban\(\) \{[\s\S]*?\n\}/.exec(packages)![0];
    for (const body of [utils, fail2ban]) expect(body).not.toMatch(/curl|https:|gpg/);
    expect(fail2ban).toMatch(/rm -f \/etc\/fail2ban\/jail\.d\/defaults-debian\.conf/);
    expect(utils).toMatch(/ln -s \/usr\/bin\/jq \/usr\/local\/bin\/jaq/);
  });

  it('every patch changes its file, and each has a reason', async () => {
    const sources = await release();
    let current = { ...sources };
    for (const patch of dmsPatches(BASE)) {
      const next = patch.apply(current[patch.file]);
      expect(next, patch.name).not.toBe(current[patch.file]);
      expect(patch.reason.length, patch.name).toBeGreaterThan(40);
      current = { ...current, [patch.file]: next };
    }
  });

  it('a changed release is noticed: a moved anchor names its patch', async () => {
    const sources = await release();
    const moved = {
      ...sources,
      Dockerfile: sources.Dockerfile.replace('https://mcgrail.com/', 'https://example.org/'),
    };
    expect(() => applyDmsPatches(moved, BASE)).toThrow(/no-kam-key-download/);
  });

  it('the context is what the release .dockerignore lets in', () => {
    expect(['Dockerfile', 'target/bin/sedfile', 'README.md', 'compose.yaml'].filter(inDmsContext)).toEqual([
      'Dockerfile',
      'target/bin/sedfile',
    ]);
  });

  it("names the same supervisord programs as the runbooks' DMS catalogue", async () => {
    const confs = ['dms-services.conf', 'saslauth.conf'].map((f) => `target/supervisor/conf.d/${f}`);
    const programs = (await Promise.all(confs.map(releaseFile)))
      .flatMap((text) => [...text.matchAll(/^\[program:([^\]]+)\]$/gm)].map((m) => m[1]))
      .sort();
    expect(programs).toEqual([...DMS_PROGRAMS].sort());
  });
});
