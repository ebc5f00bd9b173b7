import type { LabContext } from './lab.js';
export interface Fault {
  name: string;
  usage?: string;
  summary: string;
}
export const FAULTS: Fault[] = [];
export function findFault(name: string): Fault {
  throw new Error(`unknown fault ${name}`);
}
export async function injectFault(_c: LabContext, _f: Fault, _a: string[]): Promise<string> {
  return '';
}
export async function healFault(_c: LabContext, _f: Fault): Promise<string> {
  return '';
}
