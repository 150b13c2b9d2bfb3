/**
 * Shard 2 of 2 of the scenario library on virtual time (library-suite.ts): vitest runs the shards side by side,
 * which virtual time allows (a rehearsal's instants do not depend on its neighbour's CPU).
 */
import { shard, virtualLibrary } from './library-suite.js';

await virtualLibrary(shard(1, 2));
