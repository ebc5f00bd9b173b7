/**
 * PowerShell `Get-Process` default table (5.1 shows K columns, 7.x shows M columns):
 *   Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName
 *   -------  ------    -----      -----     ------     --  -- -----------
 *       231      18    14236      22840       1.45   4242   0 python
 * Columns are read by header name, so either layout (and extra columns) parse.
 */
import { excerpt, lines, ParseError } from './errors.js';

export interface WindowsProcess {
  readonly id: number;
  readonly processName: string;
  /** CPU seconds used, when the column is present and filled. */
  readonly cpuSeconds?: number;
  /** Every column by its header, raw. */
  readonly columns: Readonly<Record<string, string>>;
}

const PARSER = 'Get-Process';

export function parseGetProcess(text: string): WindowsProcess[] {
  const all = lines(text);
  if (all.every((l) => l.trim() === '')) return []; // -ErrorAction SilentlyContinue and nothing running
  const h = all.findIndex((l) => /\bId\b/.test(l) && /\bProcessName\b/.test(l));
  if (h < 0)
    throw new ParseError(
      PARSER,
      `no header with Id and ProcessName: ${excerpt(all.find((l) => l.trim()) ?? '')}`,
    );
  const headers = (all[h] ?? '').trim().split(/\s+/);
  const out: WindowsProcess[] = [];
  for (let i = h + 1; i < all.length; i++) {
    const l = (all[i] ?? '').trim();
    if (l === '' || /^-+(\s+-+)*$/.test(l)) continue;
    const cells = l.split(/\s+/);
    // The CPU(s) cell is blank for processes we may not inspect: one cell fewer, CPU(s) left out.
    const names = cells.length === headers.length ? headers : headers.filter((n) => n !== 'CPU(s)');
    if (names.length !== cells.length) {
      throw new ParseError(PARSER, `row does not match the header: ${excerpt(l)}`, i + 1);
    }
    const columns: Record<string, string> = Object.create(null) as Record<string, string>;
    names.forEach((name, j) => (columns[name] = cells[j] ?? ''));
    const id = Number(columns.Id);
    if (!Number.isSafeInteger(id)) throw new ParseError(PARSER, `no numeric Id in ${excerpt(l)}`, i + 1);
    const cpu = columns['CPU(s)'] === undefined ? undefined : Number(columns['CPU(s)']);
    out.push({
      id,
      processName: columns.ProcessName ?? '',
      ...(cpu !== undefined && Number.isFinite(cpu) && { cpuSeconds: cpu }),
      columns,
    });
  }
  return out;
}
