/** The CLI's pure parts: the list query, the watch events and their text, one-line errors, decisions. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProof } from '../../src/approval/signature.js';
import {
  buildDecision,
  loadSigningKey,
  pendingRequestId,
  type DecisionDraft,
} from '../../src/cli/decision.js';
import { CliError, errorLine } from '../../src/cli/output.js';
import { evidenceText, renderEvent, renderList, statusEvents } from '../../src/cli/render.js';
import { listQuery } from '../../src/cli/runs.js';
import type { PendingApproval, RunbookStatus } from '../../src/shared/types.js';
import { generateSshKeyPair } from '../../src/transports/ssh-keygen.js';

const base: RunbookStatus = {
  runbook: 'queueBacklog',
  target: 'lab',
  steps: [],
  decisions: [],
  refused: [],
  alertResolved: false,
};
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('list query', () => {
  it('filters on the custom search attributes', () => {
    expect(listQuery({ awaiting: true, target: 'lab', runbook: 'queueBacklog' }, 'q')).toBe(
      "TaskQueue = 'q' AND WorkflowType != 'targetGuard' AND ExecutionStatus = 'Running' AND MrbAwaitingApproval = true AND MrbTarget = 'lab' AND MrbRunbook = 'queueBacklog'",
    );
    expect(listQuery({ all: true }, 'q')).toBe("TaskQueue = 'q' AND WorkflowType != 'targetGuard'");
    expect(() => listQuery({ target: "x' OR 1=1" }, 'q')).toThrow(/characters other than/);
  });
});

describe('watch events', () => {
  it('reports ended steps and decisions in time order, then the pending approval, then what runs', () => {
    const first: RunbookStatus = {
      ...base,
      steps: [{ name: 'look', kind: 'check', verdict: 'ok', summary: 'running', startedAt: t(0) }],
    };
    expect(statusEvents(undefined, first).map((e) => e.event)).toEqual(['step-started']);
    const second: RunbookStatus = {
      ...base,
      steps: [
        {
          name: 'look',
          kind: 'check',
          verdict: 'problem',
          summary: 'broken',
          startedAt: t(0),
          endedAt: t(1),
        },
      ],
      pending: {
        requestId: 'repair#1.abcdef01',
        step: 'repair',
        reason: 'broken',
        brief: 'Touches: the probe',
        requestedAt: t(1),
        deadline: t(100),
        policy: { approvers: [], minApprovals: 1, fourEyes: true, allowUnsigned: true },
        approvals: [],
      },
    };
    expect(statusEvents(first, second).map((e) => e.event)).toEqual(['step-ended', 'pending']);
    expect(statusEvents(second, second)).toEqual([]);
    const third: RunbookStatus = {
      ...second,
      pending: undefined,
      decisions: [
        {
          request: 'repair#1.abcdef01',
          step: 'repair',
          approved: true,
          by: 'alice',
          at: t(2),
          via: 'update',
          authentication: 'unsigned',
        },
      ],
      steps: [
        ...second.steps,
        {
          name: 'repair',
          kind: 'action',
          verdict: 'ok',
          summary: 'repaired',
          startedAt: t(2),
          endedAt: t(3),
        },
        { name: 'look-again', kind: 'check', verdict: 'ok', summary: 'running', startedAt: t(3) },
      ],
    };
    const events = statusEvents(second, third);
    expect(events.map((e) => e.event)).toEqual(['decision', 'step-ended', 'step-started']);
    expect(events.map((e) => renderEvent(e, 'wf-1'))).toEqual([
      '[approved] repair approved by alice (update)',
      '[ok] repair: repaired (1.0s)',
      '[start] look-again (check) …',
    ]);
    expect(renderEvent({ event: 'pending', pending: second.pending! }, 'wf-1')).toContain(
      "mail-runbooks approve wf-1 --request 'repair#1.abcdef01' --by <your-name>",
    );
  });
});

describe('text output', () => {
  it('cuts evidence, aligns the list, folds errors to one line', () => {
    expect(evidenceText({ a: 'x'.repeat(50) }, 10)).toBe('{"a":"xxxx… (58 chars; --json shows all)');
    expect(renderList([])).toBe('no matching runs');
    const text = renderList([
      {
        workflowId: 'wf-1',
        runbook: 'queueBacklog',
        workflowType: 'queueBacklog',
        status: 'RUNNING',
        target: 'lab',
        step: 'look',
        awaitingApproval: true,
        started: t(0),
      },
    ]);
    expect(text.split('\n')).toHaveLength(2);
    expect(text).toMatch(/wf-1\s+queueBacklog\s+lab\s+running\s+look\s+AWAITING/);
    expect(errorLine(new Error('first\n  second\n'))).toBe('first second');
  });
});

describe('approve and reject: the decision sent', () => {
  const key = generateSshKeyPair('ed25519', { comment: 'alice@laptop' });
  const locked = generateSshKeyPair('ed25519', {
    passphrase: 'open sesame',
    cipher: 'aes256-ctr',
    rounds: 16,
  });
  const draft: DecisionDraft = {
    workflowId: 'alert.queueBacklog.lab',
    runId: 'run-7',
    request: 'flush-queue#2',
    step: 'flush-queue',
    approved: true,
    by: 'alice',
    comment: 'queue checked',
  };
  const now = new Date('2026-03-01T10:00:00.000Z');
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrb-cli-key-'));
    await writeFile(join(dir, 'id_ed25519'), key.private, { mode: 0o600 });
    await writeFile(join(dir, 'locked'), locked.private, { mode: 0o600 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the request id from the pending approval when the run names one', () => {
    // Cast: runs from before request ids have none, so both shapes must be read.
    const pending = {
      step: 'flush-queue',
      reason: 'r',
      requestedAt: t(0),
      deadline: t(9),
    } as PendingApproval;
    expect(pendingRequestId(pending)).toBeUndefined();
    expect(pendingRequestId({ ...pending, requestId: 'flush-queue#2' })).toBe('flush-queue#2');
  });

  it('sends an unsigned decision bound to the request and the run when no key is given', () => {
    expect(buildDecision(draft, undefined, now)).toEqual({
      request: 'flush-queue#2',
      runId: 'run-7',
      step: 'flush-queue',
      approved: true,
      by: 'alice',
      comment: 'queue checked',
    });
    // A run that names no request: nothing to bind to, but an unsigned decision still goes.
    expect(buildDecision({ ...draft, request: undefined }, undefined, now)).not.toHaveProperty('request');
  });

  it('signs with the approver key: the signature covers run, request, step, yes or no, approver, time', async () => {
    const signingKey = await loadSigningKey(join(dir, 'id_ed25519'), {});
    const decision = buildDecision(draft, signingKey, now);
    expect(decision.proof).toMatchObject({ kind: 'signed-cli', signedAt: now.toISOString() });
    const fields = { ...draft, request: 'flush-queue#2', signedAt: now.toISOString() };
    const keys = { approverPublicKeys: [key.public] };
    expect(checkProof(fields, decision.proof!, keys, now)).toEqual({ ok: true });
    expect(checkProof({ ...fields, approved: false }, decision.proof!, keys, now).ok).toBe(false);
  });

  it('finds the key in MRB_APPROVER_KEY, with its passphrase in MRB_APPROVER_KEY_PASSPHRASE', async () => {
    expect(await loadSigningKey(undefined, {})).toBeUndefined();
    const fromEnv = await loadSigningKey(undefined, {
      MRB_APPROVER_KEY: join(dir, 'locked'),
      MRB_APPROVER_KEY_PASSPHRASE: 'open sesame',
    });
    expect(fromEnv?.path).toBe(join(dir, 'locked'));
    expect(buildDecision(draft, fromEnv, now).proof?.kind).toBe('signed-cli');
    // --key wins over the environment.
    expect((await loadSigningKey(join(dir, 'id_ed25519'), { MRB_APPROVER_KEY: 'x' }))?.path).toBe(
      join(dir, 'id_ed25519'),
    );
  });

  it('says what is wrong with a key without showing it', async () => {
    await expect(loadSigningKey(join(dir, 'missing'), {})).rejects.toThrow(
      `cannot read the approver key ${join(dir, 'missing')} (ENOENT)`,
    );
    const noPassphrase = await loadSigningKey(join(dir, 'locked'), {});
    const err = (() => {
      try {
        buildDecision(draft, noPassphrase, now);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toMatch(
      /no passphrase given \(passphrase: MRB_APPROVER_KEY_PASSPHRASE\)$/,
    );
    expect((err as Error).message).not.toContain(locked.private.split('\n')[1]!.slice(0, 20));
  });

  it('refuses to sign without a request id, and checks --by and --comment', async () => {
    const signingKey = await loadSigningKey(join(dir, 'id_ed25519'), {});
    expect(() => buildDecision({ ...draft, request: undefined }, signingKey, now)).toThrow(
      /does not name its approval request; pass --request <id>/,
    );
    expect(() => buildDecision({ ...draft, by: 'alice smith' }, undefined, now)).toThrow(
      /is not an approver name/,
    );
    expect(() => buildDecision({ ...draft, comment: 'x'.repeat(501) }, undefined, now)).toThrow(
      /longer than 500/,
    );
  });
});
