/**
 * Vitest setup file (runs in every test worker): the Docker engine `npm run containers:prepare` recorded, if it
 * is running, becomes this worker's DOCKER_HOST / DOCKER_CONFIG / TESTCONTAINERS_RYUK_DISABLED, so every test
 * that runs `docker` (compose checks, the container stack) reaches it. Variables already set win.
 */
import { useRecordedEngine } from '../../tools/containers/state.js';

useRecordedEngine();
