import { fmt } from '../lib.js';
import { toSeries, type Series, type TriadeResult } from './result.js';

const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : `${fmt(v)} ms`);
const pct = (v: number) => (Number.isNaN(v) ? '–' : `${(v * 100).toFixed(1)} %`);
const series = (s: Series) => (s.values.length ? `${ms(s.p50)} / ${ms(s.p95)} (n ${s.values.length})` : '–');

/** The TRIADE table: each aspect /10 and the total /50, with the previous run's when there is one. */
export function triadeTable(r: TriadeResult, previous?: TriadeResult): string {
  const lines = [
    `| aspect | score /10 |${previous ? ' previous | Δ |' : ''} criteria (value → points) |`,
    `|---|---|${previous ? '---|---|' : ''}---|`,
  ];
  for (const a of r.scores) {
    const before = previous?.scores.find((b) => b.aspect === a.aspect);
    const criteria = a.criteria
      .map((c) => {
        const value =
          c.value === undefined || Number.isNaN(c.value)
            ? 'not measured'
            : `${c.rule.unit === 'ms' ? fmt(c.value) + ' ms' : c.rule.unit === '%' ? c.value.toFixed(1) + ' %' : fmt(c.value)}`;
        return `${c.rule.name}: ${value} → ${c.score === undefined ? '–' : c.score.toFixed(1)}/${c.rule.points}`;
      })
      .join('; ');
    const scaled = a.measuredPoints < 10 ? ` (${a.measuredPoints} of 10 points measured, scaled)` : '';
    lines.push(
      `| ${a.aspect} | **${a.score.toFixed(1)}**${scaled} |${before ? ` ${before.score.toFixed(1)} | ${signed(a.score - before.score)} |` : previous ? ' – | – |' : ''} ${criteria} |`,
    );
  }
  lines.push(
    `| **TRIADE** | **${r.total.toFixed(1)} / 50** |${previous ? ` ${previous.total.toFixed(1)} | ${signed(r.total - previous.total)} |` : ''} ${r.profile.toUpperCase()} targets |`,
  );
  return lines.join('\n');
}

const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;

/** The whole Markdown report. */
export function markdown(r: TriadeResult, previous: TriadeResult | undefined, svgName: string): string {
  const s = r.streaming;
  const l = r.latence;
  const c = r.connectivite;
  const h = r.humanite;
  const out: string[] = [];
  out.push(`# TRIADE ${r.at}${r.quick ? ' (quick: one iteration of each figure)' : ''}`);
  out.push('');
  const env = Object.entries(r.environment ?? {}).map(([k, v]) => `${k}=${v}`);
  out.push(`- command: \`${env.length ? `${env.join(' ')} ` : ''}${r.command}\``);
  out.push(`- ${r.machine}`);
  out.push(
    `- service: ${r.target}; engines: ${Object.entries(r.engines)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  out.push(
    `- GPU: ${r.gpu ? `${r.gpu.devices}; utilisation max ${r.gpu.utilizationMax === undefined ? '–' : pct(r.gpu.utilizationMax)}, memory max ${r.gpu.memoryMaxMiB?.toFixed(0) ?? '–'} MiB` : 'CPU only'}`,
  );
  out.push(
    `- scoring: ${r.profile.toUpperCase()} targets of docs/triade.md${previous ? `; previous run ${previous.at}` : ''}`,
  );
  out.push('');
  out.push(triadeTable(r, previous));
  out.push('');
  out.push(`![per-stage latency and latency vs sessions](${svgName})`);
  out.push('');
  out.push('## Latence');
  out.push('');
  out.push('| figure | p50 / p95 |');
  out.push('|---|---|');
  out.push(`| cold start: process start → listening | ${ms(l.listeningMs)} |`);
  out.push(`| cold start: process start → /ready 200 | ${ms(l.coldStartMs)} |`);
  out.push(`| /chat (SSE) → first token | ${series(l.chatFirstToken)} |`);
  out.push(`| /chat (SSE) → end | ${series(l.chatTotal)} |`);
  out.push(`| /tts → first byte | ${series(l.ttsFirstByte)} |`);
  out.push(`| /tts → end | ${series(l.ttsTotal)} |`);
  out.push('');
  out.push('## Streaming');
  out.push('');
  out.push(
    `Voice turns: ${s.turns} over /v1/realtime, ${s.wsChatTurns} over /ws/chat, real French speech at real-time pace; client clock.`,
  );
  out.push('');
  out.push('| figure | p50 / p95 |');
  out.push('|---|---|');
  out.push(`| last word → turn committed (speech_stopped) | ${series(s.lastWordToCommitted)} |`);
  out.push(`| last word → transcript | ${series(s.lastWordToTranscript)} |`);
  out.push(`| last word → **first audio (filler)** | ${series(s.lastWordToFirstAudio)} |`);
  out.push(`| last word → **first answer audio** | ${series(s.lastWordToFirstAnswerAudio)} |`);
  out.push(`| turn committed → first audio (filler) | ${series(s.committedToFirstAudio)} |`);
  out.push(`| /ws/chat: last word → first answer audio | ${series(s.wsChatFirstAnswerAudio)} |`);
  out.push(`| silence between the filler's end and the answer | ${series(s.fillerGap)} |`);
  out.push(`| /her/chat → first audio | ${series(s.herChatFirstAudio)} |`);
  out.push(`| /her/chat → end | ${series(s.herChatTotal)} |`);
  out.push('');
  out.push(
    `Answer audio underruns (a chunk arriving after playback ran dry by over 20 ms): ${s.underrunsPerTurn.toFixed(2)} per turn. Transcript WER of the voice turns: ${pct(s.transcriptWer)}.`,
  );
  out.push('');
  out.push('## Connectivité');
  out.push('');
  out.push(
    `WebSocket connect → session.created ${series(toSeries(c.connectMs))}; ping round trip ${series(toSeries(c.pingMs))}; audio chunks in: ${c.chunksAcked}/${c.chunksSent} taken; out: ${c.chunksReceived} received whole; timeouts: ${c.timeoutsAll} (all steps); /health ${c.healthStatus}, /ready ${c.readyStatus} (${ms(c.healthMs)}).`,
  );
  out.push('');
  out.push('## Humanité');
  out.push('');
  out.push(
    `Fillers per voice turn: ${h.fillersPerTurn.toFixed(2)}. Barge-in (speech onset → last audio byte): ${series(h.bargeIn)}${h.missedBargeIns ? `, ${h.missedBargeIns} found the answer over` : ''}. Answers through TTS → STT: WER ${pct(h.roundTripWer)} (the /tts sentences: ${pct(h.voiceWer)}). Mid-sentence pauses held as one turn: ${h.pausesHeld}/${h.pauses}.`,
  );
  if (h.roundTrip.length) {
    out.push('');
    out.push('| answer as written | as Whisper heard the voice |');
    out.push('|---|---|');
    const cell = (t: string) => t.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 200);
    for (const r of h.roundTrip.slice(0, 5)) out.push(`| ${cell(r.said)} | ${cell(r.heard)} |`);
  }
  out.push('');
  out.push('## Qualité');
  out.push('');
  out.push(
    `STT WER on ${r.qualite.clips} French commands: ${pct(r.qualite.sttWer)} (${r.qualite.sttWords} words). Tests: ${r.qualite.tests ? `${r.qualite.tests.passed} passed, ${r.qualite.tests.failed} failed` : 'not run (`--with-tests`)'}.`,
  );
  out.push('');
  out.push('## Capacité');
  out.push('');
  out.push(
    `Knee: **${r.capacite.knee} simultaneous voice session(s)** with p95 first answer audio ≤ ${r.capacite.kneeMs} ms and no failed turn; /her/chat: ${r.capacite.herChatKnee} request(s) at once with p95 first audio ≤ 1 s and none refused.`,
  );
  out.push('');
  out.push(
    '| sessions | turns | first audio p50 | first answer audio p50 / p95 | underruns | failed / timeouts | CPU (cores) | RSS max | queue wait (stt / llm / tts) |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const st of r.capacite.sessions)
    out.push(
      `| ${st.sessions} | ${st.turns} | ${ms(st.firstAudioP50)} | ${ms(st.firstAnswerAudioP50)} / ${ms(st.firstAnswerAudioP95)} | ${st.underruns} | ${st.failed} / ${st.timeouts} | ${st.cpuCores.toFixed(2)} | ${st.rssMiB.toFixed(0)} MiB | ${['stt', 'llm', 'tts'].map((k) => ms(st.queueWaitMs[k])).join(' / ')} |`,
    );
  out.push('');
  out.push('| /her/chat at once | answers | refused | answers/s | first audio p95 | end p95 | CPU (cores) |');
  out.push('|---|---|---|---|---|---|---|');
  for (const st of r.capacite.herChat)
    out.push(
      `| ${st.concurrency} | ${st.requests} | ${st.refused} | ${st.perSecond.toFixed(2)} | ${ms(st.firstAudioP95)} | ${ms(st.totalP95)} | ${st.cpuCores.toFixed(2)} |`,
    );
  const errors = [...new Set(r.capacite.sessions.flatMap((st) => st.errors))];
  if (errors.length) {
    out.push('');
    out.push(`Errors seen in capacity steps: ${errors.join('; ')}`);
  }
  out.push('');
  return out.join('\n');
}

/** Two charts side by side: per-stage latency (p50 bar, p95 tick) and first answer audio vs sessions. */
export function svg(r: TriadeResult): string {
  const stages: [string, Series][] = [
    ['committed → filler audio', r.streaming.committedToFirstAudio],
    ['/tts first byte', r.latence.ttsFirstByte],
    ['/chat first token', r.latence.chatFirstToken],
    ['barge-in reaction', r.humanite.bargeIn],
    ['last word → committed', r.streaming.lastWordToCommitted],
    ['last word → filler audio', r.streaming.lastWordToFirstAudio],
    ['/her/chat first audio', r.streaming.herChatFirstAudio],
    ['last word → answer audio', r.streaming.lastWordToFirstAnswerAudio],
  ];
  const W = 1000;
  const H = 360;
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="10" y="18" font-size="13" font-weight="bold">Per-stage latency, ms (bar: p50, tick: p95) — ${esc(r.at)}</text>`,
  ];
  const max1 = Math.max(100, ...stages.map(([, s]) => (Number.isNaN(s.p95) ? 0 : s.p95)));
  const x0 = 170;
  const w1 = 300;
  stages.forEach(([name, s], i) => {
    const y = 34 + i * 38;
    parts.push(`<text x="10" y="${y + 14}">${esc(name)}</text>`);
    if (Number.isNaN(s.p50)) return;
    const b = (s.p50 / max1) * w1;
    const t = (s.p95 / max1) * w1;
    parts.push(`<rect x="${x0}" y="${y + 4}" width="${b.toFixed(1)}" height="14" fill="#4a7fd4"/>`);
    parts.push(
      `<line x1="${(x0 + t).toFixed(1)}" y1="${y}" x2="${(x0 + t).toFixed(1)}" y2="${y + 22}" stroke="#c0392b" stroke-width="2"/>`,
    );
    parts.push(
      `<text x="${(x0 + Math.max(b, t) + 6).toFixed(1)}" y="${y + 15}">${fmt(s.p50)} / ${fmt(s.p95)}</text>`,
    );
  });
  // Latency vs sessions.
  const steps = r.capacite.sessions.filter((s) => !Number.isNaN(s.firstAnswerAudioP95));
  const gx = 580;
  const gw = 380;
  const gy = 40;
  const gh = 260;
  parts.push(
    `<text x="${gx}" y="18" font-size="13" font-weight="bold">First answer audio vs simultaneous sessions</text>`,
  );
  parts.push(`<rect x="${gx}" y="${gy}" width="${gw}" height="${gh}" fill="none" stroke="#999"/>`);
  const maxY = Math.max(r.capacite.kneeMs * 1.25, ...steps.map((s) => s.firstAnswerAudioP95));
  const maxN = Math.max(1, ...steps.map((s) => s.sessions));
  const px = (n: number) => gx + (Math.log2(n) / Math.max(1, Math.log2(maxN))) * gw;
  const py = (v: number) => gy + gh - (v / maxY) * gh;
  const kneeY = py(r.capacite.kneeMs);
  parts.push(
    `<line x1="${gx}" y1="${kneeY.toFixed(1)}" x2="${gx + gw}" y2="${kneeY.toFixed(1)}" stroke="#999" stroke-dasharray="4 3"/>`,
  );
  parts.push(
    `<text x="${gx + 4}" y="${(kneeY - 4).toFixed(1)}" fill="#666">${r.capacite.kneeMs} ms (knee bar)</text>`,
  );
  for (const [key, color, label] of [
    ['firstAnswerAudioP50', '#4a7fd4', 'p50'],
    ['firstAnswerAudioP95', '#c0392b', 'p95'],
  ] as const) {
    const pts = steps.map((s) => `${px(s.sessions).toFixed(1)},${py(s[key]).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const s of steps)
      parts.push(
        `<circle cx="${px(s.sessions).toFixed(1)}" cy="${py(s[key]).toFixed(1)}" r="3" fill="${color}"/>`,
      );
    parts.push(
      `<text x="${gx + gw - 40}" y="${gy + (label === 'p50' ? 14 : 28)}" fill="${color}">${label}</text>`,
    );
  }
  for (const s of steps)
    parts.push(
      `<text x="${px(s.sessions).toFixed(1)}" y="${gy + gh + 14}" text-anchor="middle">${s.sessions}</text>`,
    );
  parts.push(
    `<text x="${gx + gw / 2}" y="${gy + gh + 30}" text-anchor="middle">sessions (knee: ${r.capacite.knee})</text>`,
  );
  parts.push(`<text x="${gx - 6}" y="${gy + 8}" text-anchor="end">${fmt(maxY)}</text>`);
  parts.push(`<text x="${gx - 6}" y="${gy + gh}" text-anchor="end">0</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
