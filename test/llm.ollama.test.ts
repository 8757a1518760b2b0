import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { VoiceError } from '../src/errors.js';
import { loadLlm } from '../src/engines/factory.js';
import { OllamaLlm } from '../src/engines/llm/ollama.js';
import { OpenAiLlm } from '../src/engines/llm/openai.js';
import type { LlmEngine } from '../src/engines/llm/types.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';
import {
  expectAbortDuringPromptEvaluation,
  expectPrefillLeavesFewTokens,
  expectStreamsAndStopsOnAbort,
} from './llm-contract.js';
import { startOllama, type OllamaServer } from './ollama-server.js';

let server: OllamaServer;
const engines: LlmEngine[] = [];
const base = {
  keepAlive: '-1',
  threads: 1,
  contextSize: 2048,
  maxTokens: 64,
  temperature: 0.7,
  timeoutMs: 30_000,
  logger: silentLogger,
};

beforeAll(async () => {
  requireSharedAssets();
  server = await startOllama();
});
afterAll(async () => {
  for (const e of engines) await e.close();
  await server?.stop();
});

describe('a real Ollama server (built from source, started by the test)', () => {
  it('ollama engine: streams, stops within 100 ms of an abort, answers again', async () => {
    const llm = await OllamaLlm.connect({ ...base, host: server.url, model: server.model });
    engines.push(llm);
    expect(llm.info).toMatchObject({ engine: 'ollama', model: 'smollm2:135m', threads: 1 });
    await expectStreamsAndStopsOnAbort(llm);
  });

  it('prefill: one token written on the prompt leaves its answer a few tokens to read; skipped when busy or aborted', async () => {
    const llm = await OllamaLlm.connect({ ...base, host: server.url, model: server.model });
    engines.push(llm);
    // Ollama counts the whole prompt in prompt_eval_count; its runner's log says what it read.
    await expectPrefillLeavesFewTokens(llm, () => {
      const load = server.lastCacheLoad()!;
      return load.prompt - load.used;
    });
  });

  it('race: a barge-in during Ollama prompt evaluation ends the answer before its first token', async () => {
    const llm = await OllamaLlm.connect({ ...base, host: server.url, model: server.model });
    engines.push(llm);
    await expectAbortDuringPromptEvaluation(llm);
  });

  it('openai engine against Ollama’s OpenAI-compatible /v1 endpoint', async () => {
    const llm = await OpenAiLlm.connect({
      ...base,
      baseUrl: `${server.url}/v1`,
      model: server.model,
      apiKey: '',
    });
    engines.push(llm);
    await expectStreamsAndStopsOnAbort(llm);
  });

  it('says how to create a model the server does not have', async () => {
    const err = await OllamaLlm.connect({ ...base, host: server.url, model: 'qwen2.5:0.5b' }).catch(
      (e: unknown) => e as VoiceError,
    );
    expect(err).toBeInstanceOf(VoiceError);
    expect((err as VoiceError).message).toMatch(
      /has no model "qwen2\.5:0\.5b" .*ollama pull qwen2\.5:0\.5b.*ollama create qwen2\.5:0\.5b/,
    );
  });

  it('auto picks Ollama when it has the model, else the embedded llama.cpp', async () => {
    const models = new ModelManager({ modelsDir: MODELS_DIR });
    const withOllama = await loadLlm(loadConfig({ env: { OLLAMA_HOST: server.url } }), models, silentLogger);
    engines.push(withOllama);
    expect(withOllama.info.engine).toBe('ollama');
    const without = await loadLlm(loadConfig({ env: { OLLAMA_HOST: '127.0.0.1:9' } }), models, silentLogger);
    engines.push(without);
    expect(without.info.engine).toBe('llama.cpp');
  });
});
