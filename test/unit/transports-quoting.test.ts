import { describe, expect, it } from 'vitest';
import {
  assertPowerShellSafe,
  posixCommandLine,
  powerShellCommandLine,
  powerShellScript,
  quotePosix,
  quotePowerShell,
} from '../../src/transports/quoting.js';
import { TransportError } from '../../src/transports/types.js';

const NASTY = [
  "it's",
  '$(reboot)',
  '`id`',
  'a;b && c || d',
  'line1\nline2',
  '*.log',
  '$HOME ${PATH}',
  '',
  ' leading and trailing ',
  "''",
  '\\',
  '>/etc/passwd',
  '#comment',
  'ünïcödé ✓',
];

/**
 * How sh reads one word made only of '...' runs and \' escapes; throws on anything else (which would be
 * shell syntax outside quotes).
 */
function readPosixWord(word: string): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    if (word.startsWith("\\'", i)) {
      out += "'";
      i += 2;
    } else if (word[i] === "'") {
      const close = word.indexOf("'", i + 1);
      if (close === -1) throw new Error(`unterminated quote in ${word}`);
      out += word.slice(i + 1, close);
      i = close + 1;
    } else throw new Error(`unquoted ${JSON.stringify(word[i])} in ${word}`);
  }
  return out;
}

describe('POSIX quoting', () => {
  it("wraps every argument in single quotes and escapes single quotes as '\\''", () => {
    expect(quotePosix('plain')).toBe("'plain'");
    expect(quotePosix('')).toBe("''");
    expect(quotePosix("it's")).toBe("'it'\\''s'");
    expect(quotePosix("''")).toBe("''\\'''\\'''");
    expect(quotePosix('$(reboot)')).toBe("'$(reboot)'");
    expect(quotePosix('`id`')).toBe("'`id`'");
    expect(quotePosix('a;b')).toBe("'a;b'");
    expect(quotePosix('line1\nline2')).toBe("'line1\nline2'");
  });

  it('leaves nothing outside quotes but escaped single quotes, and reads back to the input', () => {
    for (const arg of NASTY) expect(readPosixWord(quotePosix(arg))).toBe(arg);
  });

  it('execs the program so a KILL signal reaches it rather than a wrapping shell', () => {
    expect(posixCommandLine(['postqueue', '-j'])).toBe("exec 'postqueue' '-j'");
    expect(posixCommandLine(['echo', "x'; rm -rf / #"])).toBe("exec 'echo' 'x'\\''; rm -rf / #'");
  });
});

describe('PowerShell quoting', () => {
  it('single-quotes values and doubles every kind of single quote', () => {
    expect(quotePowerShell('plain')).toBe("'plain'");
    expect(quotePowerShell("it's")).toBe("'it''s'");
    expect(quotePowerShell('it\u2019s')).toBe("'it\u2019\u2019s'");
    expect(quotePowerShell('\u2018x\u201b')).toBe("'\u2018\u2018x\u201b\u201b'");
    expect(quotePowerShell('$(Stop-Computer)')).toBe("'$(Stop-Computer)'");
    expect(quotePowerShell('`n$env:PATH')).toBe("'`n$env:PATH'");
    expect(quotePowerShell('a; Remove-Item C:\\')).toBe("'a; Remove-Item C:\\'");
    expect(quotePowerShell('line1\nline2')).toBe("'line1\nline2'");
  });

  it('keeps parameter names bare so cmdlets bind them, and only those', () => {
    expect(quotePowerShell('-Name')).toBe('-Name');
    expect(quotePowerShell('-Force:')).toBe('-Force:');
    expect(quotePowerShell('-5')).toBe("'-5'");
    expect(quotePowerShell('-Name;x')).toBe("'-Name;x'");
    expect(quotePowerShell('--long')).toBe("'--long'");
    expect(quotePowerShell('-a b')).toBe("'-a b'");
  });

  it('builds a script that calls the program and maps the outcome to an exit code', () => {
    expect(powerShellScript(['Get-Service', '-Name', "it's $(x)"])).toBe(
      [
        "$ProgressPreference = 'SilentlyContinue'",
        '[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false',
        "& 'Get-Service' -Name 'it''s $(x)'",
        '$mrbOk = $?',
        'if ($mrbOk) { exit 0 } elseif ($LASTEXITCODE) { exit $LASTEXITCODE } else { exit 1 }',
      ].join('\n'),
    );
    // The program is always a literal, even when it looks like a parameter.
    expect(powerShellScript(['-Name'])).toContain("& '-Name'");
  });

  it('sends the script base64-encoded (UTF-16LE) so no command-line layer can touch it', () => {
    const argv = [
      'C:\\Program Files\\tool.exe',
      '$(evil)',
      '`whoami`',
      'a;b',
      'line1\nline2',
      "it's",
      'ünï ✓',
    ];
    const line = powerShellCommandLine(argv);
    const match =
      /^powershell\.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand ([A-Za-z0-9+/=]+); exit \$LASTEXITCODE$/.exec(
        line,
      );
    expect(match).not.toBeNull();
    expect(Buffer.from(match?.[1] ?? '', 'base64').toString('utf16le')).toBe(powerShellScript(argv));
  });

  it('refuses arguments Windows PowerShell would pass to programs wrongly', () => {
    const refused = ['', 'say "hi"', 'C:\\dir name\\'];
    for (const arg of refused) {
      expect(() => assertPowerShellSafe(['tool.exe', arg])).toThrow(TransportError);
      expect(() => powerShellCommandLine(['tool.exe', arg])).toThrow(/argument 1/);
    }
    expect(() => assertPowerShellSafe(['tool.exe', 'C:\\dir\\', 'plain'])).not.toThrow();
  });

  it('refuses command lines over the Windows limit', () => {
    expect(() => powerShellCommandLine(['tool.exe', 'x'.repeat(20_000)])).toThrow(/Windows limit/);
  });
});
