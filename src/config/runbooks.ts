/** The runbook names config may refer to (alert routes, schedules): the workflows' own list. */
export { RUNBOOK_NAMES, type RunbookName as ConfigRunbookName } from '../shared/runbooks.js';
