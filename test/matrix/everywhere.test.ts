/** The fault matrix (see matrix.ts), faults at: every OpenRouter model and the local server (the fake stands in for it). */
import { matrixSuite } from './matrix.js';

matrixSuite('everywhere');
