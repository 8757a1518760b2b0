import { fallbackConfigured } from '../fallback/policy.js';
import { buildServer } from '../server.js';
import { installProcessGuards } from '../runtime/process-guards.js';
import { Readiness } from '../runtime/readiness.js';
import { loadRuntime, type Runtime } from '../runtime/runtime.js';
import { openStore } from '../store/open.js';
import { openKnowledgeBase } from '../rag/open.js';
import type { KnowledgeBase } from '../rag/types.js';
import { fetchMissingModels, missingModels, progressReporter } from '../models/first-run.js';
import { createContext, number, parse } from './context.js';
import { USAGE } from './usage.js';

/** After the shutdown deadline, how long engines and the store get to close before a forced exit. */
const SHUTDOWN_GRACE_MS = 5000;

export const usage = USAGE.serve;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { host: { type: 'string' }, port: { type: 'string' }, offline: { type: 'boolean' } },
    usage,
  );
  if (values.help) {
    process.stdout.write(
      `usage: ${usage}\nStarts the HTTP and WebSocket server. Missing models are downloaded first (models.autoFetch); --offline never downloads and stops when a model is missing.\n`,
    );
    return 0;
  }
  const port = number('port', values.port);
  const ctx = createContext(
    { ...values, 'log-level': values['log-level'] ?? process.env.VOICE_LOG_LEVEL ?? 'info' },
    {
      server: { ...(values.host ? { host: values.host } : {}), ...(port !== undefined ? { port } : {}) },
      ...(values.offline ? { models: { autoFetch: false } } : {}),
    },
  );
  if (values.offline) {
    const missing = await missingModels(ctx.config, ctx.models);
    if (missing.length > 0) {
      process.stderr.write(
        `voice serve --offline: missing models: ${missing.map((m) => m.id).join(', ')} (looked in ${ctx.models.dirs.join(', ')}).\nImport them from a folder holding their files: voice models import DIR (checked against models/manifest.json), or set MODELS_DIR; without --offline they are downloaded.\n`,
      );
      return 2;
    }
  }
  const store = await openStore(ctx.config, ctx.logger);
  if (fallbackConfigured(ctx.config)) {
    const { url, model, policy } = ctx.config.fallback.realtime;
    // What leaves the machine, said once at start-up (never the key).
    ctx.logger.warn(
      { url, model, policy },
      'fallback on: real-time sessions may be served by this upstream (their audio and history are sent to it)',
    );
  }
  let kb: KnowledgeBase | undefined;
  try {
    kb = openKnowledgeBase(ctx.config);
  } catch (err) {
    // Optional: the service answers without passages rather than not at all.
    ctx.logger.warn({ err: (err as Error).message }, 'knowledge base unavailable: answers go on without it');
  }
  const readiness = new Readiness();
  let runtime: Runtime | undefined;
  const app = await buildServer({
    config: ctx.config,
    logger: ctx.logger,
    runtime: () => runtime,
    readiness: () => readiness,
    store,
    kb,
  });
  await app.listen({ host: ctx.config.server.host, port: ctx.config.server.port });
  // /health and /ready answer while the engines load and warm up; other routes answer not_ready.
  // First run: the models the engines need are downloaded before they load (models.autoFetch).
  const fetched = ctx.config.models.autoFetch
    ? fetchMissingModels(ctx.config, ctx.models, ctx.logger, progressReporter(ctx.logger), readiness)
    : Promise.resolve([]);
  const loading = fetched
    .then(async (failures) => {
      try {
        return await loadRuntime(ctx.config, ctx.models, ctx.logger, readiness);
      } finally {
        // /ready says why a stage has no model: the download's error, not only "missing".
        for (const f of failures)
          if (readiness.engines[f.stage].state === 'failed') readiness.failed(f.stage, f.error);
      }
    })
    .then(
      (r) => {
        runtime = r;
        ctx.logger.info('ready: engines loaded and warmed up');
      },
      (err: Error) =>
        ctx.logger.error({ err: err.message }, 'engines failed to load: the server stays not ready'),
    );
  let stopping = false;
  const stop = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info({ signal }, 'shutting down');
    // An engine or a store that never lets go must not keep the process up for ever.
    setTimeout(() => {
      ctx.logger.error({ afterMs: forceExitMs }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, forceExitMs).unref();
    app
      .shutdown()
      .then(() => loading)
      .then(() => runtime?.close())
      .then(() => store.close())
      .then(() => kb?.close())
      .then(
        () => process.exit(code),
        (err: Error) => {
          ctx.logger.error({ err: err.message }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  const forceExitMs = ctx.config.server.shutdownDeadlineMs + SHUTDOWN_GRACE_MS;
  // A listener gets (signal, number): the number must not become the exit status. `on`, not
  // `once`: signal-exit (loaded by node-llama-cpp's dependencies) re-raises a signal that finds
  // no listener but its own, which killed the process mid-shutdown (stop() runs once anyway).
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  installProcessGuards(ctx.logger, () => stop('uncaughtException', 1));
  await new Promise(() => undefined); // runs until a signal
  return 0;
}
