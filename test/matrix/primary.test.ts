/** The fault matrix (see matrix.ts), faults at: the primary model only. */
import { matrixSuite } from './matrix.js';

matrixSuite('primary');
