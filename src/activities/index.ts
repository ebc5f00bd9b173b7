/** Every activity the worker registers. Workflows import this module's types only. */
export { notify } from './notify.js';
export { loadTargetPlan } from './plan.js';
