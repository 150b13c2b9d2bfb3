/** The fake OpenRouter: start it from code with `startFake`, or from a shell with `npm run fake`. */
export { startFake, DEFAULT_HOST, DEFAULT_BODY_LIMIT_BYTES, type FakeOptions, type RunningFake } from './server.js';
export type { FakeEvents } from './state.js';
export { FAULTS, describeFault } from './faults/index.js';
export { PRESETS } from './wire/presets.js';
