/** One line of usage per subcommand: `voice --help` prints them without loading any engine. */
export const USAGE = {
  serve: 'voice serve [--host 127.0.0.1] [--port 8080] [--offline] [--config FILE]',
  transcribe: 'voice transcribe FILE.wav [--language fr|en|auto|...] [--json | --format text|json|srt|vtt]',
  vad: 'voice vad FILE.wav [--threshold 0.5] [--min-silence-ms 500] [--min-speech-ms 250]',
  chat: 'voice chat [--system TEXT]',
  say: 'voice say "TEXT" -o OUT.wav [--voice ID|espeak:LANG] [--rate R]',
  models: 'voice models list | fetch ID... | import DIR',
  kb: 'voice kb add FILE|DIR... | list | search "QUESTION" [--k N] | remove ID [--json]',
  doctor: 'voice doctor [--json]',
  config: 'voice config [--markdown]',
  bench: 'voice bench triade [--quick] [--out DIR] [--url URL] [--with-tests] [--sessions 1,2,4,8,16]',
} as const;
