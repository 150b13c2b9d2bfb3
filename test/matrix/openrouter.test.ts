/** The fault matrix (see matrix.ts), faults at: every OpenRouter model (the local server answers). */
import { matrixSuite } from './matrix.js';

matrixSuite('openrouter');
