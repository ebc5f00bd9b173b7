/** What `schedules ensure` asks Temporal for: one schedule per config schedule, over the targets it picks. */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { scheduleSpecs } from '../../src/cli/schedules.js';
import { parseConfig } from '../../src/config/load.js';
import { FLEET_DEFAULTS } from '../../src/shared/fleet.js';
import { scheduleId, specNote, type ScheduleSpec } from '../../src/temporal/schedules.js';
import { edit, fullRaw } from './config-fixture.js';

/** The fixture's targets (lab, edge, remote) labelled, with `schedules` replaced. */
function configWith(schedules: unknown[]) {
  const raw = edit(fullRaw(), 'schedules', schedules);
  const labelled = edit(edit(raw, 'targets.0.labels', { site: 'eu' }), 'targets.2.labels', { site: 'eu' });
  return parseConfig(stringify(labelled), 'test.yaml');
}

const base = { runbook: 'endToEndVerification', cron: '30 2 * * *' };

describe('schedule specs', () => {
  it('one spec per config schedule, with the targets a list, all or a label picks', () => {
    const specs = scheduleSpecs(
      configWith([
        { ...base, name: 'listed', targets: ['remote', 'lab'], maxConcurrent: 2, maxFailures: 7 },
        { ...base, name: 'everyone', targets: 'all', timezone: 'Europe/Paris', jitterSeconds: 60 },
        { ...base, name: 'eu', runbook: 'statusCheck', targets: 'label=site=eu' },
      ]),
    );
    expect(specs).toEqual<ScheduleSpec[]>([
      {
        ...base,
        name: 'listed',
        timezone: 'UTC',
        jitterSeconds: 0,
        selection: 'remote,lab',
        targets: ['remote', 'lab'],
        maxConcurrent: 2,
        maxFailures: 7,
      },
      {
        ...base,
        name: 'everyone',
        timezone: 'Europe/Paris',
        jitterSeconds: 60,
        selection: 'all',
        targets: ['lab', 'edge', 'remote'],
        ...FLEET_DEFAULTS,
      },
      {
        ...base,
        name: 'eu',
        runbook: 'statusCheck',
        timezone: 'UTC',
        jitterSeconds: 0,
        selection: 'label=site=eu',
        targets: ['lab', 'remote'],
        ...FLEET_DEFAULTS,
      },
    ]);
    expect(specs.map(scheduleId)).toEqual(['mrb.listed', 'mrb.everyone', 'mrb.eu']);
  });

  it("a change of the targets a selection picks changes the schedule's note, so ensure updates it", () => {
    const [before] = scheduleSpecs(configWith([{ ...base, name: 'eu', targets: 'label=site=eu' }]));
    const more = edit(
      edit(fullRaw(), 'schedules', [{ ...base, name: 'eu', targets: 'label=site=eu' }]),
      'targets.0.labels',
      { site: 'eu' },
    );
    const [after] = scheduleSpecs(parseConfig(stringify(more), 'test.yaml'));
    expect(after!.targets).toEqual(['lab']);
    expect(specNote(after!)).not.toBe(specNote(before!));
    expect(specNote(before!)).toBe(specNote({ ...before! }));
  });
});
