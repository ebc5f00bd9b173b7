// Filled in as the real parts are provisioned (Temporal binary, Docker engine, lab).
export default function setup(): void {}
