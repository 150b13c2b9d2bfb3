/**
 * The scenario library where it plays on wall time (library-suite.ts `wallLibrary`): real time on each stack, a
 * fleet that takes Redis down, and the whole library on a stack without virtual time. A later phase of `npm test`
 * than the virtual-time shards, one rehearsal at a time on the machine.
 */
import { libraryNames } from '../../contract/scenario/library.js';
import { wallLibrary } from './library-suite.js';

await wallLibrary(libraryNames());
