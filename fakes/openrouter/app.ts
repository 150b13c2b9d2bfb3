/** The express app: OpenRouter's API under `/api/v1`, the control API under `/__fake`. */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { adminRoutes } from './routes/admin.js';
import type { AdminGuardOptions } from '../../contract/local-api.js';
import { accountRoutes } from './routes/account.js';
import { catalogRoutes } from './routes/catalog.js';
import { requireKey } from './routes/auth.js';
import { chatRoute } from './routes/chat.js';
import { errorHandler, notFound } from './routes/errors.js';
import { journalRequests } from './routes/journal.js';
import type { FakeState } from './state.js';

export interface AppOptions {
  /** Largest chat request body, bytes; larger gets 413. */
  bodyLimitBytes: number;
  log: Logger;
  /** Who may use the control API: the bind address (loopback turns the Host check on) and the admin token. */
  admin: AdminGuardOptions;
}

export function createApp(state: FakeState, options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use('/__fake', adminRoutes(state, options.admin));

  const api = express.Router();
  api.use(journalRequests(state));
  // The body is read as text whatever its content type, so a bad body gets OpenRouter's 400 from one place.
  api.post('/chat/completions', requireKey, express.text({ type: () => true, limit: options.bodyLimitBytes }), chatRoute(state));
  api.use(catalogRoutes(state));
  api.use(accountRoutes(state));
  api.use(notFound);
  app.use('/api/v1', api);

  app.use(errorHandler(options.log));
  return app;
}
