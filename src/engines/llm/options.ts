import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import type { OllamaOptions } from './ollama.js';
import type { OpenAiOptions } from './openai.js';

/** An Ollama server's options from `llm.*`, at `host` (one server, or one of `llm.pool`). */
export function ollamaOptions(config: Config, host: string, threads: number, logger: Logger): OllamaOptions {
  const c = config.llm;
  return {
    host,
    model: c.ollamaModel,
    keepAlive: c.ollamaKeepAlive,
    threads,
    contextSize: c.contextSize,
    maxTokens: c.maxTokens,
    temperature: c.temperature,
    timeoutMs: c.timeoutMs,
    logger,
  };
}

/** An OpenAI-compatible server's options from `llm.*`, at `baseUrl`. */
export function openAiOptions(config: Config, baseUrl: string, logger: Logger): OpenAiOptions {
  const c = config.llm;
  return {
    baseUrl,
    model: c.openaiModel,
    apiKey: c.openaiApiKey,
    maxTokens: c.maxTokens,
    temperature: c.temperature,
    timeoutMs: c.timeoutMs,
    logger,
  };
}
