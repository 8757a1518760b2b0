import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { buildServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';

/**
 * Dockerfile.cuda and compose.yaml cannot be built here (no container registry is reachable), nor
 * can Grafana run: they are linted with BuildKit's own rules, the Compose loader and Prometheus's
 * PromQL parser (scripts/deploy-lint, built by scripts/install-deploy-lint.sh), and every script,
 * path, setting and metric they name is checked.
 */
const LINT = join(
  process.env.VOICE_SERVERS ?? join(homedir(), '.cache/voice-assistant/servers'),
  'deploy-lint',
);
const tmp = mkdtempSync(join(tmpdir(), 'voice-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function lint(...files: string[]) {
  if (!existsSync(LINT)) throw new Error(`${LINT} is missing: run bash scripts/install-deploy-lint.sh`);
  const r = spawnSync(LINT, files, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What the service's /metrics exposes (scripted engines, default config). */
async function serviceMetrics(): Promise<string> {
  const runtime = await fakeRuntime();
  const app = await buildServer({
    config: loadConfig({ env: {} }),
    logger: silentLogger,
    runtime: () => runtime,
    store: new SqliteStore(':memory:'),
  });
  try {
    return (await app.inject({ method: 'GET', url: '/metrics' })).body;
  } finally {
    await app.close();
  }
}

const dockerfile = readFileSync('Dockerfile.cuda', 'utf8');
/** Instructions with their continuation lines joined. */
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .filter((l) => /^[A-Z]+ /.test(l));

describe('Dockerfile.cuda and compose.yaml', () => {
  it('lint clean with BuildKit’s rules and the Compose loader', () => {
    const r = lint('Dockerfile.cuda', 'compose.yaml');
    expect(r.out).toContain('Dockerfile.cuda: no lint warnings');
    expect(r.out).toMatch(/compose\.yaml: 3 services \(\[ollama voice weaviate\]\)/);
    expect(r.code).toBe(0);
  });

  it('the linter does flag what it should (it can fail)', () => {
    writeFileSync(join(tmp, 'Dockerfile'), 'FROM debian:12 as Build\nENV a b\nCMD node x.js\n');
    writeFileSync(join(tmp, 'compose.yaml'), 'services:\n  a:\n    image: x\n    depends_on: [b]\n');
    const r = lint(join(tmp, 'Dockerfile'), join(tmp, 'compose.yaml'));
    expect(r.code).toBe(1);
    for (const rule of ['StageNameCasing', 'FromAsCasing', 'LegacyKeyValueFormat', 'JSONArgsRecommended'])
      expect(r.out).toContain(rule);
    expect(r.out).toMatch(/depends on undefined service "?b"?/);
  });

  it('builds with the project’s own scripts only, and every path it copies exists', () => {
    const runs = instructions.filter((l) => l.startsWith('RUN '));
    expect(runs.some((l) => l.includes('bash scripts/setup.sh --build'))).toBe(true);
    expect(runs.some((l) => l.includes('bash scripts/install.sh'))).toBe(true);
    expect(runs.some((l) => l.includes('bash /tmp/setup.sh --runtime'))).toBe(true);
    // No package manager or compiler called around the scripts.
    for (const l of runs) expect(l).not.toMatch(/apt-get|npm (ci|install)|cmake|make |pip /);
    for (const l of instructions.filter((i) => i.startsWith('COPY ') && !i.includes('--from='))) {
      const paths = l.split(/\s+/).slice(1, -1);
      for (const p of paths) expect(existsSync(p), `${p} (${l})`).toBe(true);
    }
    for (const script of dockerfile.match(/scripts\/[\w./-]+\.sh/g) ?? [])
      expect(existsSync(script)).toBe(true);
    // The build-whisper step it relies on builds the CUDA variant when asked.
    expect(readFileSync('scripts/build-whisper.sh', 'utf8')).toMatch(/WHISPER_CUDA/);
  });

  it('runs as a non-root user with a /ready health check, models and data in volumes', () => {
    expect(instructions).toContain('USER voice');
    expect(instructions.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/127\.0\.0\.1:8080\/ready/);
    expect(instructions).toContain('VOLUME ["/models", "/data"]');
    expect(instructions.at(-1)).toBe('CMD ["node", "bin/voice.js", "serve"]');
  });

  it('sets only settings the service knows (its ENV and compose.yaml’s environment load as config)', () => {
    const env = Object.fromEntries(
      [...dockerfile.matchAll(/\b(VOICE_[A-Z_]+|MODELS_DIR)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
    );
    const compose = parse(readFileSync('compose.yaml', 'utf8')) as {
      services: Record<string, { image?: string; environment?: Record<string, string>; deploy?: unknown }>;
    };
    const config = loadConfig({ env: { ...env, ...compose.services.voice!.environment } });
    expect(config.stt.device).toBe('cuda');
    expect(config.llm.engine).toBe('ollama');
    expect(config.llm.ollamaHost).toBe('http://ollama:11434');
    expect(config.rag.engine).toBe('weaviate');
    expect(config.server.host).toBe('0.0.0.0');
    expect(compose.services.ollama!.image).toMatch(/^ollama\/ollama:/);
    expect(compose.services.weaviate!.image).toMatch(/^cr\.weaviate\.io\/semitechnologies\/weaviate:/);
    expect(JSON.stringify(compose.services.voice!.deploy)).toContain('"capabilities":["gpu"]');
  });
});

describe('grafana/voice-assistant.json', () => {
  it('every panel’s PromQL parses (Prometheus’s parser) and selects only metrics the service exposes', async () => {
    const r = lint('grafana/voice-assistant.json');
    expect(r.code, r.out).toBe(0);
    const panels = JSON.parse(r.out) as Record<string, string[]>;
    // What the dashboard promises: per-stage latency, fillers, barge-ins, sessions, queue wait, GPU.
    const used = new Set(Object.values(panels).flat());
    for (const name of [
      'voice_turn_stage_seconds_bucket',
      'voice_fillers_played_total',
      'voice_interruptions_total',
      'voice_active_sessions',
      'voice_engine_queue_wait_seconds_total',
      'voice_gpu_utilization_ratio',
    ])
      expect(used).toContain(name);
    const text = await serviceMetrics();
    const exposed = new Set<string>();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exposed.add(name!);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(`${name}${s}`);
    }
    for (const [title, names] of Object.entries(panels))
      for (const name of names) expect(exposed, `panel "${title}": ${name}`).toContain(name);
  });

  it('a query that does not parse is an error naming its panel', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ panels: [{ type: 'timeseries', title: 't', targets: [{ expr: 'rate(x[5m]' }] }] }),
    );
    const r = lint(bad);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/panel "t": 1:11: parse error: unclosed left parenthesis/);
  });
});

describe('deploy/kubernetes', () => {
  const dir = 'deploy/kubernetes';
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));
  type Labels = Record<string, string>;
  interface Container {
    image: string;
    args: string[];
    ports: { containerPort: number }[];
    readinessProbe: { httpGet: { path: string } };
    livenessProbe: { httpGet: { path: string } };
    lifecycle: { preStop: { sleep: { seconds: number } } };
    volumeMounts: { mountPath: string }[];
  }
  interface Objects {
    Deployment: {
      spec: {
        selector: { matchLabels: Labels };
        template: {
          metadata: { labels: Labels };
          spec: { terminationGracePeriodSeconds: number; containers: Container[] };
        };
      };
    };
    Service: { spec: { selector: Labels } };
    PodDisruptionBudget: { spec: { selector: { matchLabels: Labels } } };
    HorizontalPodAutoscaler: {
      spec: {
        scaleTargetRef: unknown;
        metrics: { pods: { metric: { name: string; selector: { matchLabels: Labels } } } }[];
      };
    };
    ConfigMap: { data: Labels };
  }
  const objects = files.flatMap((f) =>
    parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as { kind: string }),
  );
  const find = <K extends keyof Objects>(kind: K) =>
    objects.find((o) => o.kind === kind) as unknown as Objects[K];

  it('decode strictly into the Kubernetes API types (k8s.io/api)', () => {
    const r = lint(...files);
    expect(r.code, r.out).toBe(0);
    for (const kind of [
      'Deployment/voice',
      'Service/voice',
      'PodDisruptionBudget/voice',
      'HorizontalPodAutoscaler/voice',
      'ConfigMap/voice-config',
    ])
      expect(r.out).toContain(kind);
  });

  it('the validator does flag a misspelt field, a wrong type and an unknown kind (it can fail)', () => {
    const deployment = readFileSync(join(dir, 'deployment.yaml'), 'utf8');
    const cases: [string, string, RegExp][] = [
      ['typo.yaml', deployment.replace('readinessProbe:', 'readinesProbe:'), /unknown field.*readinesProbe/],
      ['type.yaml', deployment.replace('replicas: 2', 'replicas: two'), /replicas/],
      ['kind.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n', /unknown kind v1 Pod/],
    ];
    for (const [name, text, message] of cases) {
      writeFileSync(join(tmp, name), text);
      const r = lint(join(tmp, name));
      expect(r.code, name).toBe(1);
      expect(r.out, name).toMatch(message);
    }
  });

  it('probe the service’s own /ready and /health on its port; drain outlasts the shutdown deadline', () => {
    const deployment = find('Deployment');
    const container = deployment.spec.template.spec.containers[0]!;
    const config = loadConfig({ env: find('ConfigMap').data });
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.ports[0]!.containerPort).toBe(config.server.port);
    expect(container.args).toEqual(['node', 'bin/voice.js', 'serve', '--offline']);
    // The probes answer without a token.
    expect(config.auth.openPaths).toEqual(expect.arrayContaining(['/health', '/ready']));
    const grace = deployment.spec.template.spec.terminationGracePeriodSeconds;
    expect(grace).toBeGreaterThan(
      config.server.shutdownDeadlineMs / 1000 + container.lifecycle.preStop.sleep.seconds,
    );
    expect(config.llm.pool).toHaveLength(2);
    // The image the Dockerfile builds and compose.yaml names.
    expect(container.image).toBe('voice-assistant:cuda');
    expect(container.volumeMounts[0]!.mountPath).toBe('/models');
  });

  it('Service, budget and autoscaler point at the Deployment’s pods; the autoscaler’s metric is on /metrics', async () => {
    const labels = find('Deployment').spec.template.metadata.labels;
    expect(find('Deployment').spec.selector.matchLabels).toEqual(labels);
    expect(find('Service').spec.selector).toEqual(labels);
    expect(find('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    const hpa = find('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'voice' });
    const metric = hpa.spec.metrics[0]!.pods.metric;
    const text = await serviceMetrics();
    expect(text).toContain(`${metric.name}{transport="${metric.selector.matchLabels.transport}"}`);
  });
});
