/**
 * How people run the CLI, as every hint, notification and report prints it. `npx mail-runbooks` works in a
 * clone (npm runs the project's own bin) and wherever the package is installed as a dependency; a global
 * install also has plain `mail-runbooks` on PATH. Pure data, so workflow code may import it.
 */
export const CLI_COMMAND = 'npx mail-runbooks';
