import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { OllamaLlm, ollamaUrl } from './ollama.js';
import { OpenAiLlm } from './openai.js';
import type { PoolEndpoint } from './pool.js';
import { ollamaOptions, openAiOptions } from './options.js';

/** `user:pass@` removed: what may be shown in metrics, logs and /ready. */
export function endpointName(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

async function expectOk(url: string, init: RequestInit): Promise<void> {
  const res = await fetch(url, init);
  await res.body?.cancel();
  if (!res.ok) throw new Error(`${endpointName(url)} answered ${res.status}`);
}

/**
 * The endpoints of `llm.pool`: `http://host:11434` is an Ollama server (model `llm.ollamaModel`),
 * `openai+http://host:8000/v1` an OpenAI-compatible one (`llm.openaiModel`, `llm.openaiApiKey`).
 */
export function poolEndpoints(config: Config, threads: number, logger: Logger): PoolEndpoint[] {
  const c = config.llm;
  return c.pool.map((entry): PoolEndpoint => {
    if (entry.startsWith('openai+')) {
      const baseUrl = entry.slice('openai+'.length).replace(/\/+$/, '');
      const headers = c.openaiApiKey ? { authorization: `Bearer ${c.openaiApiKey}` } : undefined;
      return {
        name: endpointName(entry),
        connect: () => OpenAiLlm.connect(openAiOptions(config, baseUrl, logger)),
        ping: (signal) => expectOk(`${baseUrl}/models`, { signal, ...(headers ? { headers } : {}) }),
      };
    }
    const host = ollamaUrl(entry);
    return {
      name: endpointName(host),
      connect: () => OllamaLlm.connect(ollamaOptions(config, host, threads, logger)),
      ping: (signal) => expectOk(`${host}/api/version`, { signal }),
    };
  });
}
