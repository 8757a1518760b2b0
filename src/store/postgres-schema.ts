/**
 * The PostgreSQL schema as numbered migrations, applied in order at start and recorded in
 * `voice_schema_migrations`. A migration is never edited once released: a change is a new one.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    // Issue 8's owners, the fallback usage and a phone call's metadata: SQLite's schema 3.
    version: 1,
    sql: `
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  fallback_input_tokens BIGINT NOT NULL DEFAULT 0,
  fallback_output_tokens BIGINT NOT NULL DEFAULT 0,
  meta JSONB NOT NULL DEFAULT '{}'
);
CREATE TABLE items (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  item_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  text TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (session_id, item_id)
);
CREATE INDEX items_by_session ON items (session_id, seq);
`,
  },
];

/** The advisory lock two instances starting at once take in turn to migrate (any constant). */
export const MIGRATION_LOCK = 7_351_001;
