/**
 * Thrown when a service cannot be started (on child processes or in containers): the message names the service
 * and, where there is one, carries its last output. `output` keeps those lines for callers that look at them
 * (a llama-server that lost its port to another process is started again on a new one).
 */
export class StartError extends Error {
  readonly output: readonly string[];

  constructor(message: string, options: { output?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StartError';
    this.output = options.output ?? [];
  }
}
