import { existsSync } from 'node:fs';
import { resolveLlmThreads, resolveThreads, type Config } from '../config.js';
import { loadLlm, loadStt, loadTts, loadTurn, loadVad, TURN_FALLBACK } from '../engines/factory.js';
import { HOST_ADDON } from '../engines/stt/whisper-native.js';
import type { EngineInfo } from '../engines/types.js';
import { machineInfo } from '../metrics/machine.js';
import { openKnowledgeBase } from '../rag/open.js';
import type { KnowledgeBase } from '../rag/types.js';
import { createContext, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.doctor;

interface Check {
  stage: string;
  ready: boolean;
  /** Set for an optional engine that failed: what the service does without it. */
  fallback?: string;
  info?: EngineInfo;
  model: string;
  why?: string;
}

/** Loads each engine as the server would and says, per engine, whether it is ready and why not. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } }, usage);
  if (values.help) {
    process.stdout.write(
      `usage: ${usage}\nLoads each engine and reports: ready or not, device, model, load time, and why not.\n`,
    );
    return 0;
  }
  const ctx = createContext(values);
  const machine = await machineInfo();
  const checks: Check[] = [];
  let vad: Awaited<ReturnType<typeof loadVad>> | undefined;
  try {
    vad = await loadVad(ctx.config, ctx.models, ctx.logger);
    checks.push({ stage: 'vad', ready: true, info: vad.info, model: ctx.config.vad.model });
  } catch (err) {
    checks.push({ stage: 'vad', ready: false, model: ctx.config.vad.model, why: (err as Error).message });
  }
  try {
    const stt = await loadStt(ctx.config, ctx.models, ctx.logger, vad);
    checks.push({ stage: 'stt', ready: true, info: stt.info, model: ctx.config.stt.model });
    await stt.close();
  } catch (err) {
    checks.push({ stage: 'stt', ready: false, model: ctx.config.stt.model, why: (err as Error).message });
  }
  await vad?.close();
  try {
    const turn = await loadTurn(ctx.config, ctx.models, ctx.logger);
    await turn.predict(new Float32Array(16000));
    checks.push({ stage: 'turn', ready: true, info: turn.info, model: ctx.config.turns.model });
    await turn.close();
  } catch (err) {
    checks.push({
      stage: 'turn',
      ready: false,
      fallback: TURN_FALLBACK,
      model: ctx.config.turns.model,
      why: (err as Error).message,
    });
  }
  try {
    const llm = await loadLlm(ctx.config, ctx.models, ctx.logger);
    checks.push({ stage: 'llm', ready: true, info: llm.info, model: llm.info.model });
    await llm.close();
  } catch (err) {
    const model =
      ctx.config.llm.engine === 'ollama'
        ? ctx.config.llm.ollamaModel
        : ctx.config.llm.engine === 'openai'
          ? ctx.config.llm.openaiModel
          : ctx.config.llm.model;
    checks.push({ stage: 'llm', ready: false, model, why: (err as Error).message });
  }
  try {
    const tts = await loadTts(ctx.config, ctx.models, ctx.logger);
    checks.push({ stage: 'tts', ready: true, info: tts.info, model: tts.info.model });
    await tts.close();
  } catch (err) {
    checks.push({ stage: 'tts', ready: false, model: ctx.config.tts.voice, why: (err as Error).message });
  }
  checks.push(await checkKnowledgeBase(ctx.config));
  if (values.json) {
    process.stdout.write(
      JSON.stringify({ machine, modelsDirs: ctx.models.dirs, engines: checks }, null, 2) + '\n',
    );
  } else {
    const out = process.stdout;
    out.write(
      `machine   ${machine.cpu}, ${machine.cores} cores (${machine.simd.join(' ') || 'no AVX'}), ${machine.memoryGiB} GiB, node ${machine.node}\n`,
    );
    out.write(`gpu       ${machine.gpu ?? `none (${machine.gpuReason})`}\n`);
    out.write(`models    ${ctx.models.dirs.join(', ')}\n`);
    out.write(
      `whisper   ${existsSync(HOST_ADDON) ? `host build ${HOST_ADDON}` : 'host build missing: run bash scripts/build-whisper.sh'}\n`,
    );
    for (const c of checks) {
      if (c.ready && c.info) {
        const fb = c.info.fallbackReason ? ` (asked for cuda: ${c.info.fallbackReason})` : '';
        const why = c.info.chosenBecause ? `; ${c.info.chosenBecause}` : '';
        out.write(
          `${c.stage.padEnd(9)} ready    ${c.info.engine}, model ${c.info.model}, ${c.info.device}${fb}, ${c.info.threads} thread(s), loaded in ${Math.round(c.info.loadMs)} ms${why}\n`,
        );
      } else if (c.ready && c.stage === 'rag') out.write(`rag       ${c.model}\n`);
      else if (c.fallback)
        out.write(`${c.stage.padEnd(9)} DEGRADED model ${c.model}: ${c.why}; ${c.fallback}\n`);
      else out.write(`${c.stage.padEnd(9)} NOT READY  model ${c.model}: ${c.why}\n`);
    }
    out.write(
      `threads   stt ${resolveThreads(ctx.config.stt.threads)}, vad ${ctx.config.vad.threads}, llm ${resolveLlmThreads(ctx.config.llm.threads)}\n`,
    );
  }
  return checks.every((c) => c.ready || c.fallback) ? 0 : 1;
}

/** The knowledge base: opened and searched once as answers would (optional: never a failure). */
async function checkKnowledgeBase(config: Config): Promise<Check> {
  if (config.rag.engine === 'off') return { stage: 'rag', ready: true, model: 'off (rag.engine: off)' };
  let kb: KnowledgeBase | undefined;
  try {
    kb = openKnowledgeBase(config)!;
    const docs = await kb.list();
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      kb.search('test', { k: 1 }),
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error('a search took over 2 s')), 2000)),
      ),
    ]).finally(() => clearTimeout(timer));
    const passages = docs.reduce((n, d) => n + d.chunks, 0);
    const { engine, model } = config.rag.embeddings;
    const hybrid = engine === 'off' ? '' : ` hybrid (${engine} embeddings, ${model})`;
    return {
      stage: 'rag',
      ready: true,
      model: `ready    ${kb.engine}${hybrid}, ${docs.length} document(s), ${passages} passages, a search in ${(performance.now() - t0).toFixed(1)} ms`,
    };
  } catch (err) {
    const fallback = 'answers go on without passages';
    return { stage: 'rag', ready: false, fallback, model: config.rag.engine, why: (err as Error).message };
  } finally {
    await kb?.close();
  }
}
