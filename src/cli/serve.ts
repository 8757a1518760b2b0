import { buildServer } from '../server.js';
import { loadRuntime, type RealtimeRuntime } from '../session/runtime.js';
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
  let runtime: RealtimeRuntime | undefined;
  const app = buildServer({ config: ctx.config, logger: ctx.logger, realtime: () => runtime });
  await app.listen({ host: ctx.config.server.host, port: ctx.config.server.port });
  // /health answers while the engines load; real-time sessions are refused until they are ready.
  const loading = loadRuntime(ctx.config, ctx.models, ctx.logger).then(
    (r) => {
      runtime = r;
      ctx.logger.info('engines loaded: real-time sessions open');
    },
    (err: Error) =>
      ctx.logger.error({ err: err.message }, 'engines failed to load: real-time sessions refused'),
  );
  const stop = (signal: string) => {
    ctx.logger.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => loading)
      .then(() => runtime?.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise(() => undefined); // runs until a signal
  return 0;
}
