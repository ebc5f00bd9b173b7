// Loads one of the program's entry modules for the package's commands. A checkout (it has src/) runs its
// TypeScript through tsx, a devDependency, so it is never behind its sources; the installed package ships
// only dist/ and runs the compiled JavaScript, with no devDependency.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

async function tsxRegistered() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false; // a checkout installed with --omit=dev: the build in dist/, if any
  }
}

/** `name`: client, worker or main. */
export async function loadEntry(name) {
  const source = new URL(`../src/${name}.ts`, import.meta.url);
  if (existsSync(fileURLToPath(source)) && (await tsxRegistered())) return import(source.href);
  const compiled = new URL(`../dist/${name}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(compiled))) {
    process.stderr.write(
      `mail-runbooks: ${fileURLToPath(compiled)} is missing: run \`npm run build\` in the checkout first\n`,
    );
    process.exit(1);
  }
  return import(compiled.href);
}
