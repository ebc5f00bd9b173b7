/**
 * One registry (src/shared/runbooks.ts): every exported workflow is a registered runbook or a listed internal
 * workflow, every registered runbook is exported under its own name, and the CLI's help offers them all.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/client.js';
import { INTERNAL_WORKFLOWS, RUNBOOK_NAMES } from '../../src/shared/runbooks.js';
import * as workflows from '../../src/workflows/index.js';

const exported = Object.keys(workflows);
const registered: readonly string[] = RUNBOOK_NAMES;

describe('runbook registry', () => {
  it('registers every exported workflow that is not internal', () => {
    const unregistered = exported.filter((n) => !registered.includes(n) && !INTERNAL_WORKFLOWS.includes(n));
    expect(unregistered, 'exported from src/workflows/index.ts but not in src/shared/runbooks.ts').toEqual(
      [],
    );
  });

  it('exports every registered runbook', () => {
    const missing = registered.filter((n) => !exported.includes(n));
    expect(missing, 'in src/shared/runbooks.ts but not exported from src/workflows/index.ts').toEqual([]);
  });

  it('exports every internal workflow, and registers none of them as a runbook', () => {
    expect(INTERNAL_WORKFLOWS.filter((n) => !exported.includes(n))).toEqual([]);
    expect(INTERNAL_WORKFLOWS.filter((n) => registered.includes(n))).toEqual([]);
  });

  it('names each workflow function after its export (the workflow type people start)', () => {
    const misnamed = Object.entries(workflows)
      .filter(([name, fn]) => typeof fn !== 'function' || fn.name !== name)
      .map(([name, fn]) => `${name}: ${typeof fn === 'function' ? fn.name : typeof fn}`);
    expect(misnamed).toEqual([]);
  });
});

describe('CLI help', () => {
  it('lists every registered runbook under start', () => {
    const start = buildProgram().commands.find((c) => c.name() === 'start');
    expect(start, 'the CLI has a start command').toBeDefined();
    const help = start!.helpInformation();
    expect(registered.filter((n) => !new RegExp(`\\b${n}\\b`).test(help))).toEqual([]);
  });
});
