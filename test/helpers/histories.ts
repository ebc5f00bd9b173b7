/**
 * Integration suites save the histories of every run they made, so that a later project can replay them
 * against the current workflow code (non-determinism check) and scan them for secrets.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

export const HISTORIES_DIR = resolve(fileURLToPath(new URL('../../test-results/histories', import.meta.url)));

export interface SuiteManifest {
  suite: string;
  workflowsPath: string;
  files: string[];
}

/** Saves every workflow history visible to this client, with the workflows module that produced them. */
export async function saveHistories(
  client: Client,
  suite: string,
  workflowsPath: string,
  limit = 500,
): Promise<number> {
  const dir = join(HISTORIES_DIR, suite);
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for await (const execution of client.workflow.list()) {
    if (files.length >= limit) break;
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const file = `${execution.workflowId}.${execution.runId}.json`.replace(/[^A-Za-z0-9._-]/g, '_');
    // historyToJSON writes the canonical proto JSON (the Web UI's download format) that historyFromJSON reads.
    await writeFile(
      join(dir, file),
      `{"workflowId":${JSON.stringify(execution.workflowId)},"history":${historyToJSON(history)}}`,
    );
    files.push(file);
  }
  const manifest: SuiteManifest = { suite, workflowsPath, files };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return files.length;
}
