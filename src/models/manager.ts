import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, open, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { VoiceError, throwIfAborted } from '../errors.js';
import { readManifest, type Manifest, type ModelEntry, type ModelFile } from './manifest.js';

export type FileState = 'present' | 'missing' | 'corrupt';

export interface FileStatus {
  file: ModelFile;
  state: FileState;
  /** Where the file was found (present or corrupt). */
  path?: string;
  reason?: string;
}

export interface ModelStatus {
  model: ModelEntry;
  state: FileState;
  files: FileStatus[];
}

export interface Progress {
  file: string;
  done: number;
  total: number;
  bytesPerSec: number;
}

export interface DownloadOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  /** A download that receives nothing for this long is cut (resumable); default 30 s. */
  stallMs?: number;
}

export interface ManagerOptions {
  manifest?: Manifest;
  /** Configured models folder (MODELS_DIR); searched before `./models`. */
  modelsDir?: string;
  /** Working directory whose `models/` is searched second; defaults to process.cwd(). */
  cwd?: string;
  /** Where verified digests are remembered (path + size + mtime → sha256). */
  cacheFile?: string;
  /** Base URL serving the files by name, used instead of their upstream URLs (`models.mirror`). */
  mirror?: string;
}

export function defaultCacheFile(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'voice-assistant', 'sha256.json');
}

export function fixCommand(id: string): string {
  return `voice models fetch ${id} (downloads it) or voice models import DIR (copies it from a local folder)`;
}

/**
 * Finds, verifies, downloads and imports the model files of models/manifest.json.
 * Lookup order: the configured folder (MODELS_DIR), then ./models. Downloads and imports go to
 * the configured folder when set, else ./models.
 */
export class ModelManager {
  readonly manifest: Manifest;
  readonly dirs: string[];
  readonly targetDir: string;
  private readonly cacheFile: string;
  private readonly mirror: string | undefined;
  private digestCache: Record<string, string> | undefined;

  constructor(options: ManagerOptions = {}) {
    this.manifest = options.manifest ?? readManifest();
    const local = resolve(options.cwd ?? process.cwd(), 'models');
    const configured = options.modelsDir ? resolve(options.modelsDir) : undefined;
    this.dirs = [...new Set([configured, local].filter((d): d is string => !!d))];
    this.targetDir = configured ?? local;
    this.cacheFile = options.cacheFile ?? defaultCacheFile();
    this.mirror = options.mirror ? (options.mirror.endsWith('/') ? options.mirror : `${options.mirror}/`) : undefined;
  }

  /** Where a file is downloaded from: the mirror when one is set, else its upstream URL. */
  urlOf(file: ModelFile): string {
    return this.mirror ? new URL(encodeURIComponent(file.name), this.mirror).href : file.url;
  }

  get(id: string): ModelEntry {
    const model = this.manifest.models.find((m) => m.id === id);
    if (!model)
      throw new VoiceError(
        'model_unknown',
        `no model "${id}" in models/manifest.json (known: ${this.manifest.models.map((m) => m.id).join(', ')})`,
      );
    return model;
  }

  async status(id: string): Promise<ModelStatus> {
    const model = this.get(id);
    const files = await Promise.all(model.files.map((f) => this.fileStatus(f)));
    const state: FileState = files.some((f) => f.state === 'corrupt')
      ? 'corrupt'
      : files.some((f) => f.state === 'missing')
        ? 'missing'
        : 'present';
    return { model, state, files };
  }

  async list(): Promise<ModelStatus[]> {
    const out: ModelStatus[] = [];
    for (const m of this.manifest.models) out.push(await this.status(m.id));
    return out;
  }

  /** Paths of a model's verified files, by file name; a missing or corrupt file is an error that says how to fix it. */
  async resolve(id: string): Promise<Record<string, string>> {
    const status = await this.status(id);
    const paths: Record<string, string> = {};
    for (const f of status.files) {
      if (f.state === 'missing')
        throw new VoiceError(
          'model_missing',
          `model ${id}: file ${f.file.name} not found (looked in ${this.dirs.join(', ')}); expected sha256 ${f.file.sha256}; fix: ${fixCommand(id)}`,
        );
      if (f.state === 'corrupt')
        throw new VoiceError(
          'model_corrupt',
          `model ${id}: file ${f.path} is corrupt (${f.reason}); expected sha256 ${f.file.sha256}; fix: delete it, then ${fixCommand(id)}`,
        );
      paths[f.file.name] = f.path!;
    }
    return paths;
  }

  /** Path of the model's main (first) file. */
  async resolveMain(id: string): Promise<string> {
    const model = this.get(id);
    return (await this.resolve(id))[model.files[0]!.name]!;
  }

  private async fileStatus(file: ModelFile): Promise<FileStatus> {
    for (const dir of this.dirs) {
      const path = join(dir, file.name);
      let size: number;
      try {
        const st = await stat(path);
        if (!st.isFile()) continue;
        size = st.size;
      } catch {
        continue;
      }
      if (size !== file.bytes)
        return { file, state: 'corrupt', path, reason: `${size} bytes, expected ${file.bytes}` };
      const digest = await this.digest(path);
      if (digest !== file.sha256) return { file, state: 'corrupt', path, reason: `sha256 ${digest}` };
      return { file, state: 'present', path };
    }
    return { file, state: 'missing' };
  }

  /** sha256 of a file, remembered by path, size and mtime so large models are hashed once. */
  async digest(path: string): Promise<string> {
    const st = statSync(path);
    const key = `${resolve(path)}:${st.size}:${st.mtimeMs}`;
    const cache = this.loadCache();
    const known = cache[key];
    if (known) return known;
    const digest = await sha256File(path);
    cache[key] = digest;
    try {
      mkdirSync(dirname(this.cacheFile), { recursive: true });
      writeFileSync(this.cacheFile, JSON.stringify(cache));
    } catch {
      // A read-only home only costs re-hashing next time.
    }
    return digest;
  }

  private loadCache(): Record<string, string> {
    if (!this.digestCache) {
      try {
        this.digestCache = JSON.parse(readFileSync(this.cacheFile, 'utf8')) as Record<string, string>;
      } catch {
        this.digestCache = {};
      }
    }
    return this.digestCache;
  }

  /**
   * Downloads a model's missing or corrupt files from their upstream URLs into the target folder:
   * resumes a partial `.part` download, checks sha256 before the file takes its final name.
   */
  async fetch(
    id: string,
    options: DownloadOptions = {},
  ): Promise<ModelStatus> {
    const status = await this.status(id);
    for (const f of status.files) {
      if (f.state === 'present') continue;
      await this.download(f.file, options);
    }
    return this.status(id);
  }

  private async download(
    file: ModelFile,
    options: DownloadOptions,
  ): Promise<void> {
    mkdirSync(this.targetDir, { recursive: true });
    const final = join(this.targetDir, file.name);
    const part = `${final}.part`;
    let offset = existsSync(part) ? statSync(part).size : 0;
    if (offset > file.bytes) {
      await rm(part);
      offset = 0;
    }
    throwIfAborted(options.signal);
    if (offset < file.bytes) {
      // A connection that stops sending is cut after stallMs, like one that drops.
      const stallMs = options.stallMs ?? 30_000;
      const stall = new AbortController();
      let timer = setTimeout(() => stall.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
      const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
      const alive = () => {
        clearTimeout(timer);
        timer = setTimeout(() => stall.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
      };
      try {
        await this.transfer(file, part, offset, signal, alive, options);
      } finally {
        clearTimeout(timer);
      }
    }
    const size = statSync(part).size;
    const digest = size === file.bytes ? await sha256File(part) : '';
    if (digest !== file.sha256) {
      await rm(part, { force: true });
      throw new VoiceError(
        'model_corrupt',
        `${file.name}: downloaded ${size} bytes with sha256 ${digest || '(not computed)'}, expected ${file.bytes} bytes with sha256 ${file.sha256}; the partial file was removed`,
      );
    }
    await rename(part, final);
  }

  private async transfer(
    file: ModelFile,
    part: string,
    from: number,
    signal: AbortSignal,
    alive: () => void,
    options: DownloadOptions,
  ): Promise<void> {
    const fetchImpl = options.fetchImpl ?? fetch;
    const url = this.urlOf(file);
    let offset = from;
    let res: Response;
    try {
      res = await fetchImpl(url, {
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        redirect: 'follow',
        signal,
      });
    } catch (err) {
      throw new VoiceError('download_failed', `${file.name}: cannot reach ${url} (${causeMessage(err)})`, {
        cause: err,
      });
    }
    if (res.status !== 200 && res.status !== 206)
      throw new VoiceError('download_failed', `${file.name}: ${url} answered HTTP ${res.status}`);
    if (res.status === 200) offset = 0; // the server ignored the range: start over
    if (!res.body) throw new VoiceError('download_failed', `${file.name}: empty response from ${url}`);
    const started = performance.now();
    let done = offset;
    const startOffset = offset;
    // Written chunk by chunk so that whatever arrived before a cut is on disk to resume from.
    const out = await open(part, offset > 0 ? 'a' : 'w');
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        alive();
        await out.write(chunk);
        done += chunk.length;
        const secs = (performance.now() - started) / 1000;
        options.onProgress?.({ file: file.name, done, total: file.bytes, bytesPerSec: secs > 0 ? (done - startOffset) / secs : 0 });
      }
    } catch (err) {
      throwIfAborted(options.signal);
      throw new VoiceError(
        'download_failed',
        `${file.name}: download interrupted at ${done} of ${file.bytes} bytes (${causeMessage(err)}); run the same command again to resume`,
        { cause: err },
      );
    } finally {
      await out.close();
    }
    }

  /**
   * Copies the manifest's files found in `dir` into the target folder after checking their sha256
   * (offline provisioning). Returns what happened to each file found.
   */
  async import(dir: string): Promise<{ file: string; model: string; result: 'imported' | 'already present' | 'corrupt'; detail?: string }[]> {
    const from = resolve(dir);
    if (!existsSync(from) || !statSync(from).isDirectory())
      throw new VoiceError('file_not_found', `${dir}: not a folder`);
    const results = [];
    for (const model of this.manifest.models) {
      for (const file of model.files) {
        const src = join(from, file.name);
        if (!existsSync(src)) continue;
        const dest = join(this.targetDir, file.name);
        const size = statSync(src).size;
        const digest = size === file.bytes ? await this.digest(src) : '';
        if (digest !== file.sha256) {
          results.push({ file: file.name, model: model.id, result: 'corrupt' as const, detail: size !== file.bytes ? `${size} bytes, expected ${file.bytes}` : `sha256 ${digest}` });
          continue;
        }
        if (resolve(src) === resolve(dest) || (existsSync(dest) && (await this.digest(dest)) === file.sha256)) {
          results.push({ file: file.name, model: model.id, result: 'already present' as const });
          continue;
        }
        mkdirSync(this.targetDir, { recursive: true });
        await copyFile(src, `${dest}.part`);
        await rename(`${dest}.part`, dest);
        results.push({ file: file.name, model: model.id, result: 'imported' as const });
      }
    }
    return results;
  }
}

function causeMessage(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}
