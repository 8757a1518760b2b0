import type { Config } from '../config.js';
import { ollamaUrl } from '../engines/llm/ollama.js';
import { DEFAULT_CHUNKING, type ChunkOptions } from './chunker.js';
import { createEmbedder, type Embedder } from './embeddings.js';
import { SqliteKnowledgeBase } from './sqlite-kb.js';
import { WeaviateKnowledgeBase } from './weaviate-kb.js';
import type { KnowledgeBase } from './types.js';

/** The configured knowledge base (`rag.engine`), or undefined when it is off. */
export function openKnowledgeBase(config: Config): KnowledgeBase | undefined {
  const embedder = embedderOf(config);
  const vectors = embedder ? { embedder, vectorWeight: config.rag.embeddings.weight } : {};
  switch (config.rag.engine) {
    case 'off':
      return undefined;
    case 'sqlite':
      return new SqliteKnowledgeBase(config.rag.path || config.store.path, config.rag.language, vectors);
    case 'weaviate':
      return new WeaviateKnowledgeBase({ ...config.rag.weaviate, language: config.rag.language, ...vectors });
  }
}

/** The configured embeddings (`rag.embeddings`), or undefined when off. */
export function embedderOf(config: Config): Embedder | undefined {
  const e = config.rag.embeddings;
  if (e.engine === 'off') return undefined;
  return createEmbedder({
    engine: e.engine,
    url: e.url || (e.engine === 'ollama' ? ollamaUrl(config.llm.ollamaHost) : config.llm.openaiBaseUrl),
    model: e.model,
    apiKey: e.apiKey || (e.engine === 'openai' ? config.llm.openaiApiKey : ''),
    timeoutMs: e.timeoutMs,
  });
}

export function chunkingOf(config: Config): ChunkOptions {
  const { chunkWords, maxChunkWords, overlapWords } = config.rag;
  return {
    ...DEFAULT_CHUNKING,
    targetWords: Math.min(chunkWords, maxChunkWords),
    maxWords: maxChunkWords,
    overlapWords: Math.min(overlapWords, Math.floor(chunkWords / 2)),
  };
}
