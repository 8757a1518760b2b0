/**
 * Soak benchmark (not a test): SESSIONS voice sessions on the real engines talk at once for
 * SECONDS, streaming real French speech of ../shared/testaudio at real-time pace, half of the turns
 * interrupted by the next at a random moment. Reports wedged and silent sessions, every response's
 * end, error codes, first answer audio and the server's memory (RSS growth after the first fifth,
 * the warm-up). `npm run bench:soak [-- SECONDS SESSIONS]` (default 600 s, 8 sessions).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { loadRuntime } from '../src/runtime/runtime.js';
import { soak } from '../src/testing/soak.js';
import { frenchCommands } from '../src/testing/testaudio.js';
import { fmt, machineLine, percentile } from './lib.js';
import { listenOnLoopback } from '../src/testing/listen.js';

const [seconds = '600', sessions = '8'] = process.argv.slice(2);
// All sessions come from this one address: the per-address session quota would refuse them.
const config = loadConfig({ overrides: { auth: { maxSessionsPerToken: Number(sessions) } } });
const lines: string[] = [];
const out = (s: string) => {
  lines.push(s);
  console.log(s);
};
out(`# bench:soak ${new Date().toISOString()}: ${sessions} sessions, ${seconds} s`);
out(await machineLine(`llm ${config.llm.threads || 'auto'}, stt ${config.stt.threads || 'auto'}`));
const runtime = await loadRuntime(config, new ModelManager({ modelsDir: config.models.dir }), silentLogger);
out(
  `engines: ${[runtime.engines.stt, runtime.engines.llm, ...runtime.engines.voices.values()].map((e) => `${e.info.engine} ${e.info.model}`).join(', ')}`,
);
const { app, base } = await listenOnLoopback(config, runtime);
const url = `${base.replace('http', 'ws')}/v1/realtime`;

const seed = Date.now() % 1_000_000;
const r = await soak({
  url,
  sessions: Number(sessions),
  durationMs: Number(seconds) * 1000,
  clips: frenchCommands().map((c) => c.path),
  bargeInRate: 0.5,
  seed,
  turnTimeoutMs: 60_000,
  rss: () => process.memoryUsage().rss,
  log: (s) => console.error(s),
});

const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
const warm = r.rss.find((s) => s.atMs >= (Number(seconds) * 1000) / 5) ?? r.rss[0]!;
const last = r.rss.at(-1)!;
const peak = Math.max(...r.rss.map((s) => s.bytes));
out('');
out('| measure | value |');
out('|---|---|');
out(`| turns (of which interrupted by the next) | ${r.turns} (${r.bargeIns}) |`);
out(
  `| responses: created / completed / cancelled / failed | ${r.responses.created} / ${r.responses.completed} / ${r.responses.cancelled} / ${r.responses.failed} |`,
);
out(`| wedged (a response without response.done in 60 s, or no response to a turn) | ${r.wedged} |`);
out(`| silent (a completed answer without audio) | ${r.silent} |`);
out(`| error codes | ${JSON.stringify(r.errors)} |`);
out(
  `| end of clip → first answer audio, uninterrupted turns: p50 / p95 | ${fmt(percentile(r.answerAudioMs, 50))} / ${fmt(percentile(r.answerAudioMs, 95))} ms (n ${r.answerAudioMs.length}) |`,
);
out(
  `| RSS after warm-up (${(warm.atMs / 1000).toFixed(0)} s) → end, peak | ${mib(warm.bytes)} → ${mib(last.bytes)} MiB (${(((last.bytes - warm.bytes) / warm.bytes) * 100).toFixed(1)} %), ${mib(peak)} MiB |`,
);
out('');
out(
  `Seed ${seed}. The server and the clients share this process (the clients keep no audio). The end of clip includes its trailing silence detection: it is not the last word.`,
);
await app.close();
await runtime.close();
mkdirSync(new URL('reports', import.meta.url), { recursive: true });
writeFileSync(new URL('reports/soak.md', import.meta.url), `${lines.join('\n')}\n`);
process.exit(r.wedged === 0 && r.silent === 0 ? 0 : 1);
