/** Parsers throw this on output they cannot make sense of; the message names the parser and the line. */
export class ParseError extends Error {
  constructor(
    readonly parser: string,
    message: string,
    readonly lineNumber?: number,
  ) {
    super(`${parser}: ${message}${lineNumber === undefined ? '' : ` (line ${lineNumber})`}`);
    this.name = 'ParseError';
  }
}

/** A short, escaped excerpt of offending input for error messages (never the whole output). */
export function excerpt(text: string, max = 100): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(cut);
}

/** Output lines without the trailing empty line and without Windows carriage returns. */
export function lines(text: string): string[] {
  const out = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}
