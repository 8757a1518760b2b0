/**
 * Dev script (not run by tests): proposes the cut points of bench/data/pauses.tsv. For each
 * (recording, number of words before the pause) it finds the earliest cut at which Whisper hears
 * the next word (binary search on the head's word count), cuts at the quietest point just before,
 * and prints both halves' transcripts; a person reads them and keeps a line only when the split
 * falls where it should. Usage:
 *   MODELS_DIR=../shared/models node --import tsx bench/pause-set-propose.ts
 */
import { join } from 'node:path';
import { float32ToInt16 } from '../src/audio/pcm.js';
import { readWav } from '../src/audio/wav.js';
import { loadHostAddon } from '../src/engines/stt/whisper-native.js';
import { MODELS_DIR, TESTAUDIO_DIR } from '../src/testing/testaudio.js';

/** [recording, number of words before the pause] */
const CANDIDATES: [string, number][] = [
  ['jlo_27_ouvre_les_rideaux_du_rez_de_chaussee', 3],
  ['jlo_28_ouvre_les_volets_du_premier_etage', 2],
  ['jlo_28_ouvre_les_volets_du_premier_etage', 4],
  ['jlo_15_ferme_les_rideaux_du_bureau', 2],
  ['jlo_15_ferme_les_rideaux_du_bureau', 4],
  ['jlo_16_ferme_tous_les_volets', 3],
  ['jlo_30_ouvre_tous_les_volets', 3],
  ['jlo_36_supprime_le_minuteur', 2],
  ['jlo_38_verrouille_la_porte_d_entree', 2],
  ['jlo_39_eteins_la_lumiere', 2],
  ['jlo_09_allume_toutes_les_lumieres', 3],
  ['jlo_02_allume_la_lumiere', 2],
  ['jlo_01_allume_la_chambre_a_80', 2],
  ['jlo_01_allume_la_chambre_a_80', 4],
  ['jlo_03_allume_le_bureau_en_rouge', 2],
  ['jlo_03_allume_le_bureau_en_rouge', 4],
  ['jlo_04_allume_le_premier_etage_en_vert', 2],
  ['jlo_04_allume_le_premier_etage_en_vert', 5],
  ['jlo_05_allume_le_rez_de_chaussee_a_80', 2],
  ['jlo_06_allume_la_lumiere_dans_la_chambre', 4],
  ['jlo_06_allume_la_lumiere_dans_la_chambre', 5],
  ['jlo_07_allume_les_lumieres_en_bleu', 2],
  ['jlo_07_allume_les_lumieres_en_bleu', 4],
  ['jlo_08_allume_toutes_les_lumieres_dans_le_rez_de_chaussee', 5],
  ['jlo_08_allume_toutes_les_lumieres_dans_le_rez_de_chaussee', 6],
  ['jlo_12_combien_fait_il_dans_le_bureau', 4],
  ['jlo_14_deverrouille_la_porte_d_entree', 2],
  ['jlo_15_ferme_les_rideaux_du_bureau', 4],
  ['jlo_27_ouvre_les_rideaux_du_rez_de_chaussee', 2],
  ['jlo_27_ouvre_les_rideaux_du_rez_de_chaussee', 4],
  ['jlo_28_ouvre_les_volets_du_premier_etage', 4],
  ['jlo_34_regle_la_luminosite_dans_le_bureau_a_50', 5],
  ['jlo_37_supprime_tous_les_minuteurs', 3],
  ['jlo_40_eteins_la_lumiere_dans_le_salon', 5],
  ['jlo_41_eteins_toutes_les_lumieres_du_premier_etage', 3],
  ['jlo_41_eteins_toutes_les_lumieres_du_premier_etage', 5],
];

const mod = loadHostAddon();
mod.WhisperContext.toggleNativeLog(false);
const ctx = new mod.WhisperContext({ filePath: join(MODELS_DIR, 'ggml-base-q5_1.bin'), useGpu: false });
const decode = async (samples: Float32Array, extra: object = {}) =>
  (await ctx.transcribeData(float32ToInt16(samples).buffer as ArrayBuffer, {
    language: 'fr',
    maxThreads: 2,
    audioCtx: 750,
    ...extra,
  }).promise) as { result: string; segments: { text: string; t0: number; t1: number }[] };
const rms = (x: Float32Array, at: number) => {
  let s = 0;
  for (let i = Math.max(0, at - 160); i < Math.min(x.length, at + 160); i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / 320);
};

const words = (text: string) =>
  text
    .replace(/\[[^\]]*\]|\([^)]*\)|\*[^*]*\*/g, ' ')
    .replace(/[.,!?…]/g, ' ')
    .split(/[\s'-]+/)
    .filter(Boolean).length;

for (const [name, k] of CANDIDATES) {
  const { samples } = await readWav(join(TESTAUDIO_DIR, 'fr/s2p_jlo', `${name}.wav`));
  const heard = async (t: number) => words((await decode(samples.slice(0, Math.round(t * 16000)))).result);
  // The earliest cut at which the word after the pause starts to be heard (binary search).
  let lo = 0.3;
  let hi = samples.length / 16000 - 0.1;
  for (let i = 0; i < 7; i++) {
    const mid = (lo + hi) / 2;
    if ((await heard(mid)) > k) hi = mid;
    else lo = mid;
  }
  // Cut at the quietest point just before it.
  let best = { cut: hi - 0.05, energy: Infinity };
  for (let t = hi - 0.16; t <= hi - 0.02; t += 0.01) {
    const energy = rms(samples, Math.round(t * 16000));
    if (energy < best.energy) best = { cut: t, energy };
  }
  const at = Math.round(best.cut * 16000);
  const head = (await decode(samples.slice(0, at))).result.trim();
  const tail = (await decode(samples.slice(at))).result.trim();
  console.log(`${name}\t${k}\t${best.cut.toFixed(3)}\t${best.energy.toFixed(4)}\t${head}\t|\t${tail}`);
}
await ctx.release();
