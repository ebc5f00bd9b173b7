/**
 * The chaos matrix (test/chaos/scenarios.ts) stays in step with the code it kills: every scenario names a
 * real runbook, its kill points name real activities, and each action's command pattern finds the argv the
 * command catalogue really builds (else a kill point would silently never fire).
 */
import { describe, expect, it } from 'vitest';
import * as activities from '../../src/activities/index.js';
import { flushQueue, postsuper } from '../../src/commands/postfix.js';
import { replaceFile, restrictKeyMode } from '../../src/commands/posix.js';
import { supervisorRestart, supervisorSet } from '../../src/commands/services.js';
import { RUNBOOKS } from '../../src/shared/runbooks.js';
import { killPoints, SAMPLE, SCENARIOS } from '../chaos/scenarios.js';

const argv = (c: { argv: readonly string[] }) => c.argv.join(' ');

/** The argv each action's command pattern must find (as sent, or inside a wrapper). */
const ACTION_ARGV: Record<string, string[]> = {
  flushQueue: [argv(flushQueue())],
  fixRelayKeyPermissions: [argv(restrictKeyMode('/home/cloudrelay/.ssh/id_rsa'))],
  syncRelayCredentials: [argv(replaceFile('/etc/postfix/sasl_passwd').at(-1)!)],
  restartRelayWatchdog: [argv(supervisorRestart('smtp-relay'))],
  restartProgram: [argv(supervisorRestart('amavis'))],
  requeueDeferred: [argv(postsuper('requeue', { all: true, queue: 'deferred' }))],
  applyQueueSurgery: [
    argv(postsuper('hold', { ids: ['ABC123'] })),
    argv(postsuper('delete', { ids: ['ABC123'] })),
  ],
  setRelayRunning: [argv(supervisorSet('smtp-relay', false)), argv(supervisorSet('smtp-relay', true))],
};

describe('chaos matrix', () => {
  it('names real runbooks and activities', () => {
    for (const s of SCENARIOS) {
      expect(Object.keys(RUNBOOKS), s.name).toContain(s.runbook);
      for (const type of [...s.steps, ...s.actions.map((a) => a.activityType)]) {
        expect(Object.keys(activities), `${s.name}: ${type}`).toContain(type);
      }
    }
  });

  it("finds each action's command in the argv the catalogue builds, alone or inside sh -c", () => {
    for (const s of SCENARIOS) {
      for (const action of s.actions.filter((a) => a.command)) {
        const pattern = new RegExp(action.command!);
        const built = ACTION_ARGV[action.activityType] ?? [];
        const found = built.some((a) => pattern.test(a) && pattern.test(`sh -c script name run x ${a}`));
        expect(found, `${s.name}: /${action.command}/ in ${JSON.stringify(built)}`).toBe(true);
      }
    }
  });

  it('has, per scenario, no kill, each step boundary, before/during/after each action and two server kills', () => {
    for (const s of SCENARIOS) {
      const points = killPoints(s);
      expect(points.length, s.name).toBe(1 + s.steps.length + 3 * s.actions.length + 2);
      // step boundaries are killed between steps (workflow-interceptors.ts), not as an activity starts,
      // which would wait out a check's 2-minute start-to-close timeout
      const boundaries = points.filter((k) => k.kind === 'worker' && !('action' in k));
      expect(
        boundaries.map((k) => 'point' in k && k.point),
        s.name,
      ).toEqual(s.steps.map(() => 'boundary'));
    }
    expect(SAMPLE.length).toBeGreaterThan(0);
  });
});
