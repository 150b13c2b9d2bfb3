/**
 * The scenario library where it plays on wall time (library-suite.ts `wallLibrary`): three short scenarios at real
 * time on each stack, and the fleet that takes Redis down. A later phase of `npm test` than the virtual-time
 * shards, one rehearsal at a time on the machine.
 */
import { libraryNames } from '../../contract/scenario/library.js';
import { wallLibrary } from './library-suite.js';

await wallLibrary(libraryNames());
