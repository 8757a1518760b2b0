import type { Config } from '../config.js';
import { DEFAULT_CHUNKING, type ChunkOptions } from './chunker.js';
import { SqliteKnowledgeBase } from './sqlite-kb.js';
import { WeaviateKnowledgeBase } from './weaviate-kb.js';
import type { KnowledgeBase } from './types.js';

/** The configured knowledge base (`rag.engine`), or undefined when it is off. */
export function openKnowledgeBase(config: Config): KnowledgeBase | undefined {
  switch (config.rag.engine) {
    case 'off':
      return undefined;
    case 'sqlite':
      return new SqliteKnowledgeBase(config.rag.path || config.store.path, config.rag.language);
    case 'weaviate':
      return new WeaviateKnowledgeBase({ ...config.rag.weaviate, language: config.rag.language });
  }
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
