import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The one configuration of the service. Every field has its default and its documentation here;
 * `docs/configuration.md` is generated from this schema (`voice config --markdown`) and a test
 * keeps it in sync. Precedence: defaults < config file (JSON or YAML) < environment < CLI flags.
 * Environment names are `VOICE_` + the field path in upper snake case (`stt.language` →
 * `VOICE_STT_LANGUAGE`), plus the aliases in `ENV_ALIASES`.
 */
const device = z.enum(['cpu', 'cuda']);
const threads = (doc: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(256)
    .default(0)
    .describe(`${doc} 0 = one per core, at most 8 (ggml engines oversubscribe small machines otherwise).`);

const timeoutMs = (doc: string) => z.number().int().min(100).max(600_000).default(30_000).describe(doc);

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      tlsCert: z
        .string()
        .default('')
        .describe('PEM certificate file: serve HTTPS and WSS when set with `server.tlsKey`.'),
      tlsKey: z.string().default('').describe('PEM private key file of `server.tlsCert`.'),
      allowedOrigins: z
        .array(z.union([z.literal('*'), z.url()]))
        .default([])
        .describe(
          'Web origins (`https://app.example`) whose pages may open the WebSocket, besides the same origin and clients that send no Origin (`*` = any page; JSON array or comma-separated list).',
        ),
      trustProxy: z
        .array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]))
        .default([])
        .describe(
          'Addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` gives the client address (rate limits, session quotas without auth and failed-auth blocking count per client address); empty = the socket address, the header ignored.',
        ),
      host: z
        .string()
        .min(1)
        .default('127.0.0.1')
        .describe('Address the HTTP and WebSocket server binds to.'),
      port: z
        .number()
        .int()
        .min(0)
        .max(65535)
        .default(8080)
        .describe('TCP port of the server (0 = any free port).'),
      shutdownDeadlineMs: z
        .number()
        .int()
        .min(0)
        .max(600_000)
        .default(10_000)
        .describe(
          'On SIGTERM/SIGINT: answers in progress get this long to finish before they are cut and sessions closed (1001).',
        ),
    })
    .prefault({}),
  http: z
    .strictObject({
      bodyLimitBytes: z
        .number()
        .int()
        .min(1024)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024)
        .describe('Largest JSON request body; a larger one is refused with `body_too_large` (413).'),
      uploadLimitBytes: z
        .number()
        .int()
        .min(1024)
        .max(1024 * 1024 * 1024)
        .default(25 * 1024 * 1024)
        .describe('Largest audio upload of `/v1/audio/transcriptions` (OpenAI allows 25 MB).'),
      requestsPerMinute: z
        .number()
        .int()
        .min(0)
        .max(1_000_000)
        .default(600)
        .describe(
          'HTTP requests per minute per token (per client address when auth is off); more get 429 with `Retry-After`. 0 = no limit.',
        ),
      authFailuresPerMinute: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .default(30)
        .describe(
          'Requests with a missing or bad token per minute per client address; past it, the address gets 429 with `Retry-After` before its token is even checked.',
        ),
      requestTimeoutMs: z
        .number()
        .int()
        .min(1000)
        .max(3_600_000)
        .default(120_000)
        .describe(
          'Time a client has to send a whole request, upload included; a slower one is cut (408), so slow clients cannot hold connections for ever.',
        ),
      writeStallTimeoutMs: z
        .number()
        .int()
        .min(100)
        .max(3_600_000)
        .default(30_000)
        .describe(
          'A streamed answer (`/tts`, `/her/chat`, `/chat`, `/v1/audio/speech`) waits for a slow reader, producing nothing meanwhile; a reader that takes nothing for this long is disconnected and the work stopped.',
        ),
      maxTextChars: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .default(8000)
        .describe('Longest `message`, `text` or `input` of a chat or speech request.'),
    })
    .prefault({}),
  auth: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'Require a JWT on every HTTP route and WebSocket (off for local use, with a warning at start-up).',
        ),
      algorithm: z.enum(['HS256', 'RS256']).default('HS256').describe('JWT signature algorithm.'),
      secret: z
        .string()
        .default('')
        .describe('HS256 shared secret, at least 32 characters (use the environment); never logged.'),
      publicKeyFile: z.string().default('').describe('RS256: PEM file of the public key (SPKI).'),
      issuer: z.string().default('').describe('Required `iss` claim (empty = not checked).'),
      audience: z.string().default('').describe('Required `aud` claim (empty = not checked).'),
      requireExp: z
        .boolean()
        .default(true)
        .describe('Refuse tokens without an `exp` claim (a token that never expires cannot be revoked).'),
      maxTokenAgeSec: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe(
          'Refuse tokens issued (`iat`) longer ago than this, and tokens without `iat` (0 = not checked).',
        ),
      openPaths: z
        .array(z.string().regex(/^\//))
        .default([])
        .describe(
          'Paths served without a token, e.g. `["/health"]` for a liveness probe (JSON array or comma-separated list).',
        ),
      maxSessionsPerToken: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(4)
        .describe(
          'Concurrent real-time sessions per token (per client address when auth is off); more are refused with `session_limit_reached`.',
        ),
    })
    .prefault({}),
  limits: z
    .strictObject({
      redisUrl: z
        .string()
        .default('')
        .refine((v) => v === '' || /^rediss?:\/\//.test(v), 'a redis:// URL or empty')
        .describe(
          'Redis that counts `http.requestsPerMinute` and `auth.maxSessionsPerToken` across every instance (`redis://host:6379`); empty = each instance counts alone, in memory. Never logged.',
        ),
      redisFailMode: z
        .enum(['open', 'closed'])
        .default('open')
        .describe(
          'With Redis unreachable: `open` serves requests and sessions uncounted, `closed` refuses them (503 `limits_unavailable`); either is logged and counted in `voice_limits_redis_errors_total`.',
        ),
      redisTimeoutMs: z
        .number()
        .int()
        .min(10)
        .max(10_000)
        .default(500)
        .describe('Longest a Redis command may take before the fail mode applies.'),
    })
    .prefault({}),
  store: z
    .strictObject({
      url: z
        .string()
        .default('')
        .refine((v) => v === '' || /^postgres(ql)?:\/\//.test(v), 'a postgres:// URL or empty')
        .describe(
          'PostgreSQL database of the conversations (`postgres://user:pass@host:5432/db`), shared by every instance; empty = the SQLite file `store.path`. Never logged.',
        ),
      maxConnections: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(10)
        .describe('PostgreSQL connections this instance opens at most.'),
      connectTimeoutMs: z
        .number()
        .int()
        .min(100)
        .max(60_000)
        .default(2000)
        .describe('Longest wait for a PostgreSQL connection before a call fails with `store_unavailable`.'),
      queryTimeoutMs: z
        .number()
        .int()
        .min(100)
        .max(600_000)
        .default(5000)
        .describe('Longest a PostgreSQL query may run (statement_timeout, and on the client side).'),
      path: z
        .string()
        .min(1)
        .default('data/conversations.db')
        .describe('SQLite file of the conversation history (`:memory:` keeps nothing across restarts).'),
      historyItems: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(40)
        .describe('Most recent messages of a conversation given to the LLM with a new one.'),
      maxItems: z
        .number()
        .int()
        .min(2)
        .max(1_000_000)
        .default(500)
        .describe(
          'Items a conversation keeps, live and stored; past it the oldest are removed (a live session sends `conversation.item.deleted` for each).',
        ),
      maxChars: z
        .number()
        .int()
        .min(1000)
        .max(1_000_000_000)
        .default(1_000_000)
        .describe(
          'Characters of text a conversation keeps over all its items; past it the oldest items are removed.',
        ),
      maxItemChars: z
        .number()
        .int()
        .min(100)
        .max(10_000_000)
        .default(32_000)
        .describe(
          'Longest text of one item a client creates (`conversation.item.create`); longer is `item_too_large`.',
        ),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info')
        .describe('Log level. Transcripts and audio are never logged at info or above.'),
    })
    .prefault({}),
  models: z
    .strictObject({
      dir: z
        .string()
        .default('')
        .describe(
          'Folder searched first for model files (also `MODELS_DIR`); `./models` is searched after it.',
        ),
      autoFetch: z
        .boolean()
        .default(true)
        .describe(
          '`voice serve` (`npm start`) downloads the models its engines need that are missing, sha256-checked, before loading them (`--offline` or false: never; import them with `voice models import DIR`).',
        ),
      mirror: z
        .union([z.literal(''), z.url({ protocol: /^https?$/ })])
        .default('')
        .describe(
          "Base URL serving the manifest's files by file name (an internal mirror), used instead of their upstream URLs; empty = the upstream URLs.",
        ),
    })
    .prefault({}),
  vad: z
    .strictObject({
      model: z.string().min(1).default('silero_vad').describe('Model id of the Silero VAD v5 network.'),
      threshold: z
        .number()
        .gt(0)
        .lt(1)
        .default(0.5)
        .describe('Speech probability above which a frame is speech.'),
      minSpeechMs: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(250)
        .describe('Speech shorter than this is not a segment (clicks, coughs).'),
      minSilenceMs: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(500)
        .describe('Silence that ends a speech segment (end of turn).'),
      prefixPaddingMs: z
        .number()
        .int()
        .min(0)
        .max(5_000)
        .default(300)
        .describe('Audio kept before the detected speech start, so first syllables are not clipped.'),
      threads: z
        .number()
        .int()
        .min(1)
        .max(16)
        .default(1)
        .describe('onnxruntime intra-op threads for the VAD.'),
    })
    .prefault({}),
  turns: z
    .strictObject({
      detection: z
        .enum(['semantic_vad', 'server_vad'])
        .default('semantic_vad')
        .describe(
          'Turn detection of voice sessions: `semantic_vad` (Silero pause + Smart Turn + the transcript) or `server_vad` (silence alone, `vad.minSilenceMs`). Falls back to `server_vad` when the Smart Turn model cannot load.',
        ),
      model: z
        .string()
        .min(1)
        .default('smart-turn-v3.2-cpu')
        .describe('Model id of the Smart Turn v3 end-of-turn model.'),
      eagerness: z
        .enum(['low', 'medium', 'high', 'auto'])
        .default('auto')
        .describe(
          '`semantic_vad` eagerness: how sure the model must be and how long a silence always ends the turn (docs/protocol.md).',
        ),
      pauseMs: z
        .number()
        .int()
        .min(64)
        .max(2_000)
        .default(200)
        .describe(
          '`semantic_vad`: VAD silence after which the turn is judged (and speculatively transcribed).',
        ),
      speculative: z
        .boolean()
        .default(true)
        .describe(
          'Transcribe a turn at its first pause, before it is confirmed; dropped if the user goes on.',
        ),
      partialIntervalMs: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(0)
        .describe(
          'Partial transcripts while the user speaks (`conversation.item.input_audio_transcription.delta`): the turn is transcribed again each time it has grown by this much audio (one decode at a time; 300 is the measured setting); 0 (the default) turns them off: a misheard early draft stays in the final transcript.',
        ),
      threads: z
        .number()
        .int()
        .min(1)
        .max(16)
        .default(1)
        .describe('onnxruntime intra-op threads for Smart Turn.'),
    })
    .prefault({}),
  stt: z
    .strictObject({
      model: z.string().min(1).default('ggml-base-q5_1').describe('Model id of the whisper.cpp ggml model.'),
      language: z
        .string()
        .regex(/^(auto|[a-z]{2,3})$/, 'expected "auto" or an ISO 639-1 code such as fr, en')
        .default('fr')
        .describe('Spoken language (ISO 639-1), or `auto` to detect it per utterance.'),
      device: device
        .default('cpu')
        .describe('Where whisper.cpp runs; `cuda` falls back to CPU with a warning.'),
      threads: threads('whisper.cpp threads.'),
      audioCtx: z
        .union([z.literal('auto'), z.literal('full'), z.number().int().min(64).max(1500)])
        .default('auto')
        .describe(
          'Encoder context: `auto` sizes it to the utterance (see README, measured), `full` always encodes 30 s, a number fixes it (1500 = 30 s).',
        ),
      beamSize: z
        .number()
        .int()
        .min(1)
        .max(16)
        .default(5)
        .describe(
          'Beam search width (1 = greedy). 5 measured on the French commands: WER 21.8 % vs 24.1 % greedy, same latency (README).',
        ),
      liveAudioCtx: z
        .union([z.literal('auto'), z.literal('full'), z.number().int().min(64).max(1500)])
        .default(400)
        .describe(
          'Encoder context for the turns of voice sessions, where the transcript holds up the answer: 400 (8 s) greedy measured 26.4 % WER in 0.53 s vs 24.7 % in 1.31 s for 750 with beam 5 (README).',
        ),
      liveBeamSize: z
        .number()
        .int()
        .min(1)
        .max(16)
        .default(1)
        .describe('Beam search width for the turns of voice sessions (1 = greedy).'),
      liveBatching: z
        .boolean()
        .default(true)
        .describe(
          'Two voice turns waiting for Whisper at once are transcribed in one window, one second apart, and split by segment timestamps: the encoder runs once for both (WER 25.3 % vs 25.9 % one by one on the French commands, in half the time).',
        ),
      maxAudioSec: z
        .number()
        .int()
        .min(1)
        .max(86_400)
        .default(7_200)
        .describe(
          'Longest audio a file transcription accepts (`/v1/audio/transcriptions`, `voice transcribe`); longer is refused with `audio_too_long` before decoding.',
        ),
      decodeTimeoutMs: z
        .number()
        .int()
        .min(100)
        .max(3_600_000)
        .default(120_000)
        .describe(
          'Longest an upload may take to decode and resample (ffmpeg with one thread, or the worker thread that reads large WAVs); past it the request is a `timeout` and the decoder is stopped.',
        ),
      timeoutMs: timeoutMs(
        'One decoding (at most 30 s of audio) running longer than this plus twice its audio duration, counted from when it leaves the queue, is aborted.',
      ),
    })
    .prefault({}),
  llm: z
    .strictObject({
      engine: z
        .enum(['auto', 'ollama', 'llamacpp', 'openai'])
        .default('auto')
        .describe('`auto`: Ollama when it answers and has `llm.ollama.model`, else the embedded llama.cpp.'),
      model: z
        .string()
        .min(1)
        .default('SmolLM2-135M-Instruct.Q4_1')
        .describe('Model id (models/manifest.json) of the GGUF the embedded llama.cpp runs.'),
      device: device
        .default('cpu')
        .describe('Where the embedded llama.cpp runs; `cuda` falls back to CPU with a warning.'),
      threads: z
        .number()
        .int()
        .min(0)
        .max(256)
        .default(0)
        .describe(
          'llama.cpp threads (embedded and Ollama `num_thread`). 0 = 1 on machines of 2 cores or fewer (2 threads collapse when anything else runs), else half the cores.',
        ),
      contextSize: z.number().int().min(256).max(131072).default(4096).describe('Context window in tokens.'),
      maxTokens: z
        .number()
        .int()
        .min(1)
        .max(32768)
        .default(256)
        .describe(
          'Longest answer, in tokens: clients may ask for fewer (`max_tokens`, `max_output_tokens`), never more.',
        ),
      temperature: z.number().min(0).max(2).default(0.7).describe('Sampling temperature.'),
      ollamaHost: z
        .string()
        .min(1)
        .default('http://127.0.0.1:11434')
        .describe('Ollama server URL (also `OLLAMA_HOST`).'),
      ollamaModel: z
        .string()
        .min(1)
        .default('smollm2:135m')
        .describe('Ollama model name; README shows how to create it from a GGUF.'),
      ollamaKeepAlive: z
        .string()
        .min(1)
        .default('-1')
        .describe(
          'Ollama `keep_alive`: how long the model stays loaded after a request (-1 = always, no cold turns).',
        ),
      openaiBaseUrl: z
        .string()
        .min(1)
        .default('https://api.openai.com/v1')
        .describe(
          'Base URL of an OpenAI-compatible chat-completions API (vLLM, llama.cpp server, LM Studio, Ollama /v1, OpenAI).',
        ),
      openaiModel: z
        .string()
        .min(1)
        .default('gpt-4o-mini')
        .describe('Model name sent to the OpenAI-compatible API.'),
      openaiApiKey: z
        .string()
        .default('')
        .describe('API key for the OpenAI-compatible API (also `OPENAI_API_KEY`); never logged.'),
      timeoutMs: timeoutMs('Start-up checks and a request that sends nothing for this long are aborted.'),
      pool: z
        .array(
          z.string().regex(/^(openai\+)?https?:\/\/\S+$/, 'http://host:port or openai+http://host:port/v1'),
        )
        .max(32)
        .default([])
        .describe(
          'Several LLM servers as one engine (overrides `llm.engine`): `http://host:11434` is an Ollama server (`llm.ollamaModel`), `openai+http://host:8000/v1` an OpenAI-compatible one (`llm.openaiModel`). Answers go to the server with the fewest in progress; one that refuses or sends no first token in `llm.poolFirstTokenTimeoutMs` is skipped. Set `engines.llmParallel` to what each server answers at once.',
        ),
      poolHealthIntervalMs: z
        .number()
        .int()
        .min(100)
        .max(600_000)
        .default(2000)
        .describe('Between two health checks of every `llm.pool` server (a down one is reconnected).'),
      poolFirstTokenTimeoutMs: z
        .number()
        .int()
        .min(100)
        .max(600_000)
        .default(10_000)
        .describe(
          'An answer whose first token has not come this long after it went to a `llm.pool` server goes to the next one.',
        ),
      prefill: z
        .boolean()
        .default(true)
        .describe(
          "While a pause is judged, read the answer's prompt (history, the pause's transcript, its knowledge base passages) into the LLM's cache, so the answer starts sooner when the turn ends there (embedded llama.cpp and Ollama).",
        ),
    })
    .prefault({}),
  tts: z
    .strictObject({
      voice: z
        .string()
        .min(1)
        .default('auto')
        .describe(
          'Voice: a Piper voice id (`fr_FR-siwis-medium`), `espeak:LANG` (`espeak:fr`), or `auto`: the first French Piper voice present, else `espeak:fr`.',
        ),
      device: device.default('cpu').describe('Where Piper runs; `cuda` falls back to CPU with a warning.'),
      threads: z.number().int().min(1).max(64).default(1).describe('onnxruntime threads for Piper.'),
    })
    .prefault({}),
  engines: z
    .strictObject({
      maxQueuedHttpJobs: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(4)
        .describe(
          'HTTP jobs (file transcription, `/chat`, `/her/chat`, `/tts`, speech) that may wait for each engine; one more gets 503 `engine_busy` with `Retry-After`. Live voice turns go first and are never refused.',
        ),
      queueTimeoutMs: z
        .number()
        .int()
        .min(100)
        .max(3_600_000)
        .default(60_000)
        .describe(
          "Longest wait in an engine's queue before the work starts (`timeout`); a stage's own time limit starts when its job leaves the queue.",
        ),
      llmParallel: z
        .number()
        .int()
        .min(1)
        .max(64)
        .default(1)
        .describe(
          'Answers the LLM writes at once (embedded llama.cpp: 1; an Ollama or OpenAI-compatible server may take more).',
        ),
      stuckAfterMs: z
        .number()
        .int()
        .min(100)
        .max(3_600_000)
        .default(15_000)
        .describe(
          'A job that has not stopped this long after it was cancelled (or timed out) marks its engine stuck: `/ready` answers 503 naming it until the job ends.',
        ),
      maxConsecutiveFailures: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(3)
        .describe(
          'Failures in a row (errors or time-outs) that mark an engine failing: `/ready` answers 503 naming it until one of its jobs succeeds.',
        ),
    })
    .prefault({}),
  realtime: z
    .strictObject({
      instructions: z
        .string()
        .default(
          'Tu es un assistant vocal. Réponds en français, en une à trois phrases courtes, sans listes ni mise en forme.',
        )
        .describe('System instructions of a new session (a client changes them with `session.update`).'),
      maxSessions: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(16)
        .describe(
          'Concurrent real-time sessions served locally; more are refused with `session_limit_reached`, or served upstream under the `overflow` fallback policy.',
        ),
      maxFrameBytes: z
        .number()
        .int()
        .min(1024)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024)
        .describe(
          'Largest WebSocket message accepted; a larger one gets `frame_too_large` (the session stays open).',
        ),
      maxMessagesPerSec: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(200)
        .describe('Messages per second per session above which messages are refused with `rate_limited`.'),
      maxAudioSpeed: z
        .number()
        .min(1)
        .max(100)
        .default(2)
        .describe(
          'Input audio accepted at most this many times faster than real time (after a burst of `realtime.audioBurstSec`); the excess is dropped with `input_audio_rate_exceeded`.',
        ),
      audioBurstSec: z
        .number()
        .min(1)
        .max(3600)
        .default(30)
        .describe(
          'Seconds of input audio a session may send at once (a recorded clip) before `realtime.maxAudioSpeed` applies.',
        ),
      maxOutputBufferBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .max(1024 * 1024 * 1024)
        .default(8 * 1024 * 1024)
        .describe(
          'Bytes sent to a client and not yet taken by the network above which the client is disconnected (a reader stalled for good). Answer audio already waits while more than `realtime.audioLeadMs` of it is unsent.',
        ),
      maxPendingBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .max(1024 * 1024 * 1024)
        .default(16 * 1024 * 1024)
        .describe(
          'Bytes of received messages a session may hold before handling them; above it the client sends faster than the session can work and is closed (`inbox_full`, code 1008). At least twice `realtime.maxFrameBytes`.',
        ),
      maxBufferedAudioSec: z
        .number()
        .int()
        .min(1)
        .max(3600)
        .default(120)
        .describe(
          'Uncommitted input audio kept at most; older audio is dropped with `input_audio_buffer_full`.',
        ),
      idleTimeoutMs: z
        .number()
        .int()
        .min(1000)
        .max(86_400_000)
        .default(300_000)
        .describe(
          'A session that receives nothing for this long is closed (code 1000, after an `idle_timeout` error).',
        ),
      pingIntervalMs: z
        .number()
        .int()
        .min(1000)
        .max(600_000)
        .default(20_000)
        .describe('WebSocket ping interval; a client that misses two pongs is disconnected.'),
      audioLeadMs: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(200)
        .describe(
          'How far ahead of real time answer audio is sent (what a barge-in may leave queued at the client).',
        ),
      audioChunkMs: z
        .number()
        .int()
        .min(10)
        .max(1000)
        .default(40)
        .describe('Duration of each audio delta sent.'),
      firstClauseMinChars: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .default(40)
        .describe(
          'The first chunk sent to TTS may end at a comma once it is this long (0 = whole sentences only).',
        ),
      sttTimeoutMs: timeoutMs('Transcription of a turn taking longer ends the response as failed.'),
      firstTokenTimeoutMs: timeoutMs(
        'No first LLM token within this ends the response as failed (also the longest gap between tokens).',
      ),
      ttsTimeoutMs: timeoutMs('Synthesis of one sentence taking longer ends the response as failed.'),
      fillers: z
        .boolean()
        .default(true)
        .describe(
          'Play a short pre-synthesized phrase the moment a turn ends while the answer is not ready.',
        ),
      shortFillerMs: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(600)
        .describe(
          'When the turn was transcribed before it ended (semantic_vad), the answer is near: only fillers this short play, since the answer follows the filler.',
        ),
      fillerDelayMs: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(0)
        .describe('How long after the turn ends answer audio may be awaited before a filler starts.'),
      fillerPhrases: z
        .record(z.string().regex(/^[a-z]{2,3}$/), z.array(z.string().min(1).max(200)).min(1).max(32))
        .default({
          fr: [
            'Hum…',
            'Alors…',
            'Hum, laissez-moi regarder…',
            'Très bien, je note…',
            "Un instant s'il vous plaît…",
            'Laissez-moi voir ça…',
          ],
          en: ['Hmm…', 'So…', 'Hmm, let me check…', 'All right, noted…', 'One moment please…', 'Let me see…'],
        })
        .describe(
          'Filler phrases per language (JSON object in the environment), synthesized once per voice at start-up.',
        ),
      sentenceCacheSize: z
        .number()
        .int()
        .min(0)
        .max(100_000)
        .default(256)
        .describe('Synthesized sentences kept in memory (voice + text); 0 disables the cache.'),
    })
    .prefault({}),
  telephony: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe(
          'Phone calls: the Twilio Media Streams route (`/v1/telephony/twilio`, its TwiML at `/v1/telephony/twilio/voice`) and the plain 8 kHz WebSocket (`/v1/telephony/stream`).',
        ),
      twilioAuthToken: z
        .string()
        .default('')
        .describe(
          "Twilio account's auth token: when set, every Twilio request (TwiML webhook and Media Stream upgrade) must carry a valid `X-Twilio-Signature`, else 403; never logged. With `auth.enabled`, the Twilio routes need it (Twilio sends no bearer token).",
        ),
      publicUrl: z
        .union([z.literal(''), z.url({ protocol: /^https?$/ })])
        .default('')
        .describe(
          'The base URL Twilio reaches this server at (e.g. `https://voice.example.com`): what signatures are computed over and where the TwiML points the stream. Empty = taken from the request (`Host`, and `X-Forwarded-Proto` behind a trusted proxy).',
        ),
      markIntervalMs: z
        .number()
        .int()
        .min(100)
        .max(10_000)
        .default(500)
        .describe(
          'Besides a mark at the end of each sentence, a mark every this many ms of answer audio: barge-in keeps in history what the caller heard up to the last mark played.',
        ),
      clearOn: z
        .enum(['onset', 'speech'])
        .default('onset')
        .describe(
          "When the caller talks over an answer, the carrier's buffer is cleared at the first voiced frame (`onset`, answer audio is then held until the VAD decides) or once the VAD confirms speech (`speech`, `vad.minSpeechMs` later).",
        ),
      dtmf: z
        .enum(['respond', 'item', 'ignore'])
        .default('respond')
        .describe(
          'Keypad digits: a user text item `DTMF: 1234#` answered at once (`respond`), added without an answer (`item`), or dropped (`ignore`). Digits pressed within `telephony.dtmfGapMs` of each other (or ended by `#`) make one item.',
        ),
      dtmfGapMs: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .default(1500)
        .describe('Digits pressed within this many ms of each other make one item.'),
      maxCallSec: z
        .number()
        .int()
        .min(10)
        .max(86_400)
        .default(3600)
        .describe('A call longer than this is ended (the conversation is saved).'),
    })
    .prefault({}),
  rag: z
    .strictObject({
      engine: z
        .enum(['sqlite', 'weaviate', 'off'])
        .default('sqlite')
        .describe(
          'Knowledge base the answers draw on: `sqlite` (embedded SQLite FTS5, BM25 with French stems), `weaviate` (a Weaviate server, `rag.weaviate.*`), `off`. An empty knowledge base changes nothing.',
        ),
      embeddings: z
        .strictObject({
          engine: z
            .enum(['off', 'ollama', 'openai'])
            .default('off')
            .describe(
              'Vectors beside the passages, and hybrid searches (BM25 and vector similarity fused): `ollama` (`/api/embed`), `openai` (any OpenAI-compatible `/embeddings`), `off` (BM25 only).',
            ),
          url: z
            .string()
            .default('')
            .describe(
              'Embeddings server; empty = `llm.ollamaHost` (ollama) or `llm.openaiBaseUrl` (openai).',
            ),
          model: z
            .string()
            .min(1)
            .default('nomic-embed-text')
            .describe('Embedding model; changing it needs the documents added again (`voice kb add`).'),
          apiKey: z
            .string()
            .default('')
            .describe('API key of the embeddings server (openai); empty = `llm.openaiApiKey`. Never logged.'),
          timeoutMs: z
            .number()
            .int()
            .min(100)
            .max(120_000)
            .default(10_000)
            .describe(
              'Limit of each embeddings request (a question is embedded within `rag.budgetMs` anyway).',
            ),
          weight: z
            .number()
            .min(0)
            .max(1)
            .default(0.5)
            .describe('Share of vector similarity in a hybrid score (0 = BM25 only, 1 = vectors only).'),
        })
        .prefault({}),
      weaviate: z
        .strictObject({
          url: z
            .url({ protocol: /^https?$/ })
            .default('http://127.0.0.1:8079')
            .describe("Weaviate's REST URL (its default port 8080 is this service's; run it on another)."),
          grpcPort: z
            .number()
            .int()
            .min(1)
            .max(65535)
            .default(50051)
            .describe("Weaviate's gRPC port, same host."),
          apiKey: z.string().default('').describe('Weaviate API key; empty = anonymous access.'),
          collection: z
            .string()
            .regex(/^[A-Z][A-Za-z0-9_]{0,60}$/)
            .default('VoiceKnowledge')
            .describe(
              'Collection of the passages (created on first use), and `…Documents` for the documents.',
            ),
          timeoutMs: z
            .number()
            .int()
            .min(100)
            .max(60_000)
            .default(5000)
            .describe('Limit of each Weaviate call (connect, query; inserts get four times as long).'),
        })
        .prefault({}),
      path: z
        .string()
        .default('')
        .describe(
          "SQLite file of the embedded knowledge base; empty = `store.path` (the service's database).",
        ),
      language: z
        .enum(['fr', 'en'])
        .default('fr')
        .describe('Language of the stemmer and stop words the documents and questions are indexed with.'),
      k: z.number().int().min(1).max(20).default(3).describe('Passages given to the LLM per answer.'),
      budgetMs: z
        .number()
        .int()
        .min(0)
        .max(5000)
        .default(150)
        .describe(
          'A retrieval still running when a voice turn ends gets this long; then the answer goes on without it (`rag_dropped`).',
        ),
      timeoutMs: z
        .number()
        .int()
        .min(10)
        .max(30_000)
        .default(500)
        .describe(
          'Retrieval time limit of an HTTP answer (`/chat`, `/her/chat`); past it the answer has no passages.',
        ),
      prefetchMinWords: z
        .number()
        .int()
        .min(1)
        .max(50)
        .default(3)
        .describe(
          "Words of a turn's draft (a partial transcript) before it is searched; the pause's transcript is searched whatever its length.",
        ),
      maxDocumentBytes: z
        .number()
        .int()
        .min(1024)
        .max(1024 * 1024 * 1024)
        .default(20 * 1024 * 1024)
        .describe('Largest document file the knowledge base takes.'),
      chunkWords: z.number().int().min(20).max(2000).default(200).describe('Words a passage aims at.'),
      maxChunkWords: z
        .number()
        .int()
        .min(20)
        .max(4000)
        .default(300)
        .describe('Words a passage never exceeds (but for a longer sentence).'),
      overlapWords: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .default(40)
        .describe("Words of a passage's last sentences repeated at the start of the next."),
    })
    .prefault({}),
  fallback: z
    .strictObject({
      realtime: z
        .strictObject({
          url: z
            .url({ protocol: /^wss?$/ })
            .default('wss://api.openai.com/v1/realtime')
            .describe(
              'WebSocket URL of the OpenAI Realtime API (or of another server speaking it) that sessions fall back to; `?model=` is added.',
            ),
          apiKey: z
            .string()
            .default('')
            .describe(
              'Bearer key of the fallback upstream (also `OPENAI_API_KEY`). Nothing falls back without it; never logged.',
            ),
          model: z.string().min(1).default('gpt-realtime').describe('Model the upstream runs (`?model=`).'),
          caFile: z
            .string()
            .default('')
            .describe(
              'PEM file of a certificate authority the upstream certificate may chain to, besides the system ones (a private upstream; `NODE_EXTRA_CA_CERTS` works too).',
            ),
          voice: z
            .string()
            .min(1)
            .default('marin')
            .describe(
              "Upstream voice of a session whose voice is one of this server's own (an OpenAI voice name asked by the client is kept).",
            ),
          transcriptionModel: z
            .string()
            .min(1)
            .default('gpt-4o-mini-transcribe')
            .describe(
              'Input transcription model asked of the upstream (the user turns keep their transcripts).',
            ),
          policy: z
            .array(z.enum(['unready', 'error', 'overflow', 'always', 'never']))
            .default(['unready', 'error'])
            .describe(
              'When a real-time session is served upstream (with a key): `unready` (a session starting while an engine is not serving), `error` (a local STT/LLM/TTS failure or time-out mid-turn: the session moves upstream and the turn is answered there), `overflow` (beyond `realtime.maxSessions`), `always`, `never` (JSON array or comma-separated list).',
            ),
          dialect: z
            .enum(['ga', 'beta'])
            .default('ga')
            .describe('Protocol the upstream speaks: `ga`, or `beta` (`OpenAI-Beta: realtime=v1`).'),
          connectTimeoutMs: z
            .number()
            .int()
            .min(100)
            .max(120_000)
            .default(10_000)
            .describe(
              'Connecting to the upstream (TLS and WebSocket upgrade) taking longer fails the fallback.',
            ),
          responseTimeoutMs: z
            .number()
            .int()
            .min(100)
            .max(600_000)
            .default(30_000)
            .describe(
              'An upstream response that sends no event for this long is given up (`fallback_failed`).',
            ),
          maxSessions: z
            .number()
            .int()
            .min(0)
            .max(10_000)
            .default(16)
            .describe('Sessions served upstream at once, besides `realtime.maxSessions` local ones.'),
          failBack: z
            .boolean()
            .default(false)
            .describe(
              'A session served upstream (not under `always`) comes back to the local engines after an upstream answer ends, once they serve and have room.',
            ),
        })
        .prefault({}),
      chat: z
        .strictObject({
          url: z
            .url({ protocol: /^https?$/ })
            .default('https://api.openai.com/v1')
            .describe(
              'Base URL of the OpenAI-compatible API that `/chat` and `/her/chat` fall back to: `chat/completions` for the answer, `audio/speech` for its voice.',
            ),
          apiKey: z
            .string()
            .default('')
            .describe(
              'Bearer key of the chat fallback (also `OPENAI_API_KEY`); nothing falls back without it; never logged.',
            ),
          model: z.string().min(1).default('gpt-4o-mini').describe('Chat model of the fallback.'),
          speechModel: z
            .string()
            .min(1)
            .default('gpt-4o-mini-tts')
            .describe('Speech model of the fallback (`/her/chat` audio when the local voice cannot speak).'),
          voice: z.string().min(1).default('marin').describe('Voice of the fallback speech.'),
          policy: z
            .array(z.enum(['unready', 'error', 'overflow', 'always', 'never']))
            .default(['unready', 'error'])
            .describe(
              'When `/chat` and `/her/chat` are answered upstream (with a key): `unready` (an engine is not serving), `error` (the local LLM fails before its first word, or the voice fails: the rest is spoken upstream), `overflow` (the local queue is full: `engine_busy`), `always`, `never`.',
            ),
          timeoutMs: timeoutMs('An upstream request that answers nothing for this long fails.'),
        })
        .prefault({}),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type ConfigInput = DeepPartial<Config>;

/** Fields that hold secrets: shown as `(set)` or empty, never as their value. */
const SECRET_PATHS = [
  'auth.secret',
  'llm.openaiApiKey',
  'fallback.realtime.apiKey',
  'fallback.chat.apiKey',
  'rag.weaviate.apiKey',
  'rag.embeddings.apiKey',
  'telephony.twilioAuthToken',
  'store.url',
  'limits.redisUrl',
];

/** The config with every secret replaced by `(set)` (or left empty): what may be printed. */
export function redactSecrets(config: Config): Config {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const path of SECRET_PATHS) if (getPath(copy, path)) setPath(copy, path, '(set)');
  return copy as unknown as Config;
}

/** Other environment names of fields; a field's own `VOICE_` name wins over them. */
export const ENV_ALIASES: Record<string, string | string[]> = {
  MODELS_DIR: 'models.dir',
  OLLAMA_HOST: 'llm.ollamaHost',
  OPENAI_API_KEY: ['llm.openaiApiKey', 'fallback.realtime.apiKey', 'fallback.chat.apiKey'],
};

function aliasesOf(path: string): string[] {
  return Object.entries(ENV_ALIASES)
    .filter(([, p]) => [p].flat().includes(path))
    .map(([n]) => n);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface Leaf {
  path: string;
  env: string;
  schema: z.ZodType;
  doc: string;
  defaultValue: unknown;
}

function envName(path: string): string {
  return (
    'VOICE_' +
    path
      .replace(/\./g, '_')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toUpperCase()
  );
}

/** Flat list of the config's fields, for env parsing, docs and error messages. */
export function configFields(): Leaf[] {
  const out: Leaf[] = [];
  const walk = (obj: z.ZodObject, prefix: string) => {
    for (const [key, value] of Object.entries(obj.shape)) {
      const schema = value as z.ZodType;
      const path = prefix ? `${prefix}.${key}` : key;
      const inner = unwrap(schema);
      if (inner instanceof z.ZodObject) walk(inner, path);
      else {
        const def = (schema as z.ZodDefault).def;
        out.push({
          path,
          env: envName(path),
          schema,
          doc: schema.description ?? '',
          defaultValue: def.defaultValue,
        });
      }
    }
  };
  walk(configSchema, '');
  return out;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault) s = s.def.innerType as z.ZodType;
  return s;
}

function acceptedValues(schema: z.ZodType): string {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodEnum) return `one of ${inner.options.join(', ')}`;
  if (inner instanceof z.ZodUnion)
    return inner.options.map((o) => acceptedValues(o as z.ZodType)).join(' or ');
  if (inner instanceof z.ZodLiteral) return JSON.stringify(inner.value);
  if (inner instanceof z.ZodNumber) {
    const { minValue, maxValue, isInt } = inner;
    return `${isInt ? 'an integer' : 'a number'}${minValue !== null && Number.isFinite(minValue) ? ` >= ${minValue}` : ''}${maxValue !== null && Number.isFinite(maxValue) ? ` <= ${maxValue}` : ''}`;
  }
  if (inner instanceof z.ZodBoolean) return 'true or false';
  if (inner instanceof z.ZodRecord) return 'a JSON object';
  if (inner instanceof z.ZodArray) return 'a JSON array or a comma-separated list';
  if (inner instanceof z.ZodString)
    return inner.minLength ? 'a non-empty string' : 'a string (empty = unset)';
  return 'a value';
}

function setPath(target: Record<string, unknown>, path: string, value: unknown) {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function fromEnvString(schema: z.ZodType, raw: string): unknown {
  const inner = unwrap(schema);
  const numeric =
    inner instanceof z.ZodNumber || (inner instanceof z.ZodUnion && /^-?\d+(\.\d+)?$/.test(raw));
  if (numeric && raw.trim() !== '' && !Number.isNaN(Number(raw))) return Number(raw);
  if (inner instanceof z.ZodRecord) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  if (inner instanceof z.ZodArray) {
    if (raw.trim().startsWith('['))
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  if (inner instanceof z.ZodBoolean)
    return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  return raw;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `config file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  try {
    const parsed: unknown = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level must be a mapping');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(
      `config file ${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'} (${(err as Error).message})`,
    );
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Config file; defaults to `VOICE_CONFIG` from the environment. */
  file?: string;
  /** Highest precedence, e.g. CLI flags. */
  overrides?: ConfigInput;
}

/** Loads, merges and validates the config; throws ConfigError naming the field and the accepted values. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const fields = configFields();
  const file = options.file ?? env.VOICE_CONFIG;
  const input: Record<string, unknown> = file ? readConfigFile(file) : {};
  const sources = new Map<string, string>();
  for (const field of fields) {
    const names = [...aliasesOf(field.path), field.env];
    for (const name of names) {
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      setPath(input, field.path, fromEnvString(field.schema, raw));
      sources.set(field.path, `env ${name}`);
    }
  }
  mergeInto(input, options.overrides ?? {}, '', sources);
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const issuePath = issue.path.join('.');
      // An element of a list is reported as the list's field.
      const field =
        fields.find((f) => f.path === issuePath) ?? fields.find((f) => issuePath.startsWith(`${f.path}.`));
      const path = field?.path ?? issuePath;
      if (issue.code === 'unrecognized_keys') {
        const where = path ? `${path}.` : '';
        return `unknown field ${issue.keys.map((k) => where + k).join(', ')} (known fields: ${fields.map((f) => f.path).join(', ')})`;
      }
      if (!field) return `${path || '(top level)'}: ${issue.message}`;
      const source = sources.get(path) ?? (file ? `file ${file}` : 'input');
      const got = JSON.stringify(getPath(input, path));
      return `${path} (${field.env}) = ${got} from ${source} is invalid: expected ${acceptedValues(field.schema)}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const crossed = crossFieldErrors(result.data);
  if (crossed.length > 0) throw new ConfigError(`invalid configuration: ${crossed.join('; ')}`);
  return result.data;
}

/** Rules between fields, which the per-field schema cannot state. */
function crossFieldErrors(config: Config): string[] {
  const errors: string[] = [];
  const { maxPendingBytes, maxFrameBytes } = config.realtime;
  if (maxPendingBytes < 2 * maxFrameBytes)
    errors.push(
      `realtime.maxPendingBytes (${maxPendingBytes}) must be at least twice realtime.maxFrameBytes (${maxFrameBytes}): two full messages must fit`,
    );
  return errors;
}

function mergeInto(
  target: Record<string, unknown>,
  src: object,
  prefix: string,
  sources: Map<string, string>,
) {
  for (const [key, value] of Object.entries(src)) {
    if (value === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      mergeInto(target, value as object, path, sources);
    else {
      setPath(target, path, value);
      sources.set(path, 'command line');
    }
  }
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], obj);
}

/** llama.cpp threads: 0 = 1 on 2 cores or fewer (ggml's spin barriers thrash when cores are shared), else half. */
export function resolveLlmThreads(configured: number): number {
  if (configured > 0) return configured;
  const cores = availableParallelism();
  return cores <= 2 ? 1 : Math.floor(cores / 2);
}

/** Resolves a configured thread count (0 = auto) to the explicit number engines get. */
export function resolveThreads(configured: number): number {
  return configured > 0 ? configured : Math.min(8, availableParallelism());
}

/** Markdown table of every field, its env name, default and meaning (docs/configuration.md). */
export function configMarkdown(): string {
  const rows = configFields().map((f) => {
    const aliases = aliasesOf(f.path)
      .map((n) => `, \`${n}\``)
      .join('');
    return `| \`${f.path}\` | \`${f.env}\`${aliases} | \`${JSON.stringify(f.defaultValue)}\` | ${acceptedValues(f.schema)} | ${f.doc} |`;
  });
  return [
    '# Configuration',
    '',
    'Generated from `src/config.ts` by `voice config --markdown`; do not edit by hand.',
    '',
    'Sources, lowest precedence first: these defaults, a config file (JSON or YAML, path in `VOICE_CONFIG` or',
    '`--config FILE`), environment variables, command-line flags. An invalid value stops start-up with a',
    'message naming the field and the accepted values.',
    '',
    '| field | environment | default | accepted | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
