import { buildServer } from '../server.js';
import { createContext, number, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.serve;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { host: { type: 'string' }, port: { type: 'string' } }, usage);
  if (values.help) {
    process.stdout.write(`usage: ${usage}\nStarts the HTTP and WebSocket server.\n`);
    return 0;
  }
  const port = number('port', values.port);
  const ctx = createContext(
    { ...values, 'log-level': values['log-level'] ?? process.env.VOICE_LOG_LEVEL ?? 'info' },
    { server: { ...(values.host ? { host: values.host } : {}), ...(port !== undefined ? { port } : {}) } },
  );
  const app = buildServer({ config: ctx.config, logger: ctx.logger });
  await app.listen({ host: ctx.config.server.host, port: ctx.config.server.port });
  const stop = (signal: string) => {
    ctx.logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise(() => undefined); // runs until a signal
  return 0;
}
