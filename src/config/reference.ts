/**
 * Generates docs/config-reference.md from the schema (its JSON Schema form, which carries the
 * descriptions, defaults, bounds and formats), so the reference cannot drift from what is validated.
 * `npm run docs:config` writes it; a unit test fails when the committed file is stale.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { z } from 'zod';
import { CLI_COMMAND } from '../shared/cli-command.js';
import { INLINE_SECRET, RUNBOOK_NAMES, configShapeSchema } from './schema.js';

type Json = z.core.JSONSchema.JSONSchema;

export const REFERENCE_PATH = fileURLToPath(new URL('../../docs/config-reference.md', import.meta.url));

const code = (v: unknown) => `\`${JSON.stringify(v)}\``;
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function asSchema(node: unknown): Json {
  return typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Json) : {};
}

/** The property every option of a discriminated union fixes with a `const` (kind, type, flavour). */
function discriminator(options: Json[]): string | undefined {
  const first = options[0]?.properties ?? {};
  return Object.keys(first).find((key) =>
    options.every((o) => asSchema(o.properties?.[key]).const !== undefined),
  );
}

function scalarType(node: Json): string {
  if (node.format) return node.format;
  if (node.const !== undefined) return code(node.const);
  if (node.enum) return node.enum.map(code).join(' | ');
  if (node.type === 'integer' || node.type === 'number') {
    const range =
      node.minimum !== undefined && node.maximum !== undefined ? ` ${node.minimum}-${node.maximum}` : '';
    return `${node.type === 'integer' ? 'whole number' : 'number'}${range}`;
  }
  return typeof node.type === 'string' ? node.type : 'value';
}

interface Section {
  title: string;
  description?: string;
  rows: string[];
}

/** Renders one mapping as a table, queuing its nested mappings, lists of mappings and variants. */
function walkObject(title: string, node: Json, sections: Section[]): void {
  const section: Section = { title, description: node.description, rows: [] };
  sections.push(section);
  const later: [string, Json][] = [];
  const required = new Set(node.required ?? []);
  for (const [key, raw] of Object.entries(node.properties ?? {})) {
    const child = asSchema(raw);
    const path = title ? `${title}.${key}` : key;
    let type: string;
    const items = asSchema(child.items);
    if (child.format === 'secret reference') type = 'secret reference';
    else if (child.oneOf) {
      const by = discriminator(child.oneOf) ?? '?';
      type = `mapping, by ${by}: ${child.oneOf.map((o) => code(asSchema(o.properties?.[by]).const)).join(', ')}`;
      for (const option of child.oneOf)
        later.push([`${path}[${by}=${String(asSchema(option.properties?.[by]).const)}]`, option]);
    } else if (child.anyOf) {
      // A value given either way (a schedule's targets: a list of names, or a selection).
      type = child.anyOf
        .map(asSchema)
        .map((o) => (o.type === 'array' ? `list of ${scalarType(asSchema(o.items))}` : scalarType(o)))
        .join(', or ');
    } else if (child.type === 'array') {
      type = items.type === 'object' ? 'list of mappings' : `list of ${scalarType(items)}`;
      if (items.type === 'object') later.push([`${path}[]`, items]);
    } else if (child.type === 'object' && child.properties) {
      type = 'mapping';
      later.push([path, child]);
    } else if (child.type === 'object') {
      // A mapping keyed by free names (approvers, step overrides): mappings as values get their section.
      const keys = scalarType(asSchema(child.propertyNames));
      const values = asSchema(child.additionalProperties);
      if (values.type === 'object' && values.properties) {
        type = `mapping of ${keys} to mappings`;
        later.push([`${path}.<name>`, values]);
      } else {
        const value =
          values.type === 'array' ? `list of ${scalarType(asSchema(values.items))}` : scalarType(values);
        type = `mapping of ${keys} to ${value}`;
      }
    } else type = scalarType(child);
    const presence =
      child.default !== undefined
        ? `default ${code(child.default)}`
        : child._prefault !== undefined
          ? 'optional (defaults inside)'
          : required.has(key)
            ? 'required'
            : 'optional';
    section.rows.push(
      `| \`${key}\` | ${cell(type)} | ${cell(presence)} | ${cell(child.description ?? '')} |`,
    );
  }
  for (const [childTitle, child] of later) walkObject(childTitle, child, sections);
}

const INTRO = `# Configuration reference

<!-- Generated from src/config/schema.ts by \`npm run docs:config\`. Do not edit by hand. -->

One YAML file describes the mail servers (targets) and how the runbooks reach them. An annotated example
is [config.example.yaml](config.example.yaml) (the lab's; a real installation's: [config.production.example.yaml](config.production.example.yaml)). Check a file with \`${CLI_COMMAND} config check --config FILE\`.

Which file: \`--config\`, else \`$MRB_CONFIG\`, else \`./mail-runbooks.yaml\`, else, in a checkout of the project
only, \`.lab/target.yaml\` (written by the lab). A file that was given but is missing or invalid is an error;
the installed package never falls back to the lab's file.

Rules that apply everywhere:

- **Secrets are references**: \`{ env: NAME }\` (an environment variable of the worker) or
  \`{ file: PATH }\` (a relative path is resolved against the config file's folder). A value given inline is
  rejected ("${INLINE_SECRET}"). Messages never show secret values.
- **Unknown keys are errors**, with the nearest known key suggested.
- **Names used in commands** (containers, services, users) are limited to safe characters and cannot start
  with \`-\`. Paths inside containers and hosts are absolute.
- Errors are reported all at once, one per line: \`<file>:<line>:<col>: <path>: <what is wrong>\`, where
  the path names list entries by name when they have one (\`targets.lab.relay.ssh.port\`).
- Cross-field rules: target and schedule names are unique; \`defaultTarget\`, route \`target\` and
  schedule \`targets\` name existing targets; runbooks are one of ${RUNBOOK_NAMES.map((n) => `\`${n}\``).join(', ')}.
  Approval policies name approvers defined under \`approvers\` and groups defined under \`approverGroups\`
  (\`group:<name>\`); a group lists defined approvers; \`minApprovals\` is at most the number of approvers
  a policy names; one public key belongs to one approver.
`;

export async function renderConfigReference(): Promise<string> {
  const json = z.toJSONSchema(configShapeSchema, { io: 'input', unrepresentable: 'any', reused: 'inline' });
  const sections: Section[] = [];
  walkObject('', json, sections);
  const body = sections.map((s) =>
    [
      `## ${s.title || 'Top level'}`,
      s.description ? `\n${s.description[0]?.toUpperCase() ?? ''}${s.description.slice(1)}.` : '',
      '\n| key | type | presence | description |\n| --- | --- | --- | --- |',
      ...s.rows,
    ].join('\n'),
  );
  const markdown = [INTRO, ...body].join('\n\n');
  const options = (await prettier.resolveConfig(REFERENCE_PATH)) ?? {};
  return prettier.format(markdown, { ...options, parser: 'markdown' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(REFERENCE_PATH, await renderConfigReference());
  console.log(`wrote ${REFERENCE_PATH}`);
}
