#!/usr/bin/env python3
"""Reference Smart Turn v3 features and probabilities, for test/smart-turn.test.ts.

Dev-time only (never at run time): computes the model input exactly as pipecat-ai/smart-turn's
inference.py does (transformers.WhisperFeatureExtractor(chunk_length=8), do_normalize=True, last
8 s zero-padded at the front) on real recordings, and the model's probability with onnxruntime.

  python3 -m venv /tmp/ref && /tmp/ref/bin/pip install transformers numpy onnxruntime
  /tmp/ref/bin/python scripts/smart-turn-reference.py ../shared/models ../shared/testaudio test/fixtures/smart-turn
"""
import json
import sys
import wave
from pathlib import Path

import numpy as np
import onnxruntime as ort
import transformers
from transformers import WhisperFeatureExtractor

models, audio_dir, out = (Path(p) for p in sys.argv[1:4])
out.mkdir(parents=True, exist_ok=True)

# (name, file, keep seconds from the start or None for all, dump the features)
CLIPS = [
    ("jlo_02_full", "fr/s2p_jlo/jlo_02_allume_la_lumiere.wav", None, True),
    ("jfk_full", "en/wcpp_jfk.wav", None, True),
    ("jlo_08_full", "fr/s2p_jlo/jlo_08_allume_toutes_les_lumieres_dans_le_rez_de_chaussee.wav", None, False),
    ("jlo_08_cut", "fr/s2p_jlo/jlo_08_allume_toutes_les_lumieres_dans_le_rez_de_chaussee.wav", 2.2, False),
    ("jlo_34_full", "fr/s2p_jlo/jlo_34_regle_la_luminosite_dans_le_bureau_a_50.wav", None, False),
    ("jlo_34_cut", "fr/s2p_jlo/jlo_34_regle_la_luminosite_dans_le_bureau_a_50.wav", 1.9, False),
    ("jlo_33_full", "fr/s2p_jlo/jlo_33_quelle_heure_est_il.wav", None, False),
    ("jlo_41_full", "fr/s2p_jlo/jlo_41_eteins_toutes_les_lumieres_du_premier_etage.wav", None, False),
    ("jlo_41_cut", "fr/s2p_jlo/jlo_41_eteins_toutes_les_lumieres_du_premier_etage.wav", 1.7, False),
    ("librispeech_full", "en/leopard_test_librispeech.wav", None, False),
]


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float32) / 32768.0


def last_8s(audio: np.ndarray) -> np.ndarray:
    n = 8 * 16000
    if len(audio) > n:
        return audio[-n:]
    return np.pad(audio, (n - len(audio), 0))


extractor = WhisperFeatureExtractor(chunk_length=8)
so = ort.SessionOptions()
so.intra_op_num_threads = 1
so.inter_op_num_threads = 1
session = ort.InferenceSession(str(models / "smart-turn-v3.2-cpu.onnx"), sess_options=so)

results = []
for name, file, keep, dump in CLIPS:
    audio = read_wav(audio_dir / file)
    if keep is not None:
        audio = audio[: int(keep * 16000)]
    features = extractor(
        last_8s(audio),
        sampling_rate=16000,
        return_tensors="np",
        padding="max_length",
        max_length=8 * 16000,
        truncation=True,
        do_normalize=True,
    ).input_features.astype(np.float32)
    assert features.shape == (1, 80, 800), features.shape
    probability = float(session.run(None, {"input_features": features})[0].reshape(-1)[0])
    entry = {"name": name, "file": file, "keepSec": keep, "probability": probability}
    if dump:
        features.reshape(-1).astype("<f4").tofile(out / f"{name}.f32")
        entry["features"] = f"{name}.f32"
    results.append(entry)
    print(f"{name:18s} p={probability:.4f}")

(out / "reference.json").write_text(
    json.dumps(
        {
            "generator": "scripts/smart-turn-reference.py",
            "transformers": transformers.__version__,
            "onnxruntime": ort.__version__,
            "model": "smart-turn-v3.2-cpu.onnx",
            "clips": results,
        },
        indent=2,
    )
    + "\n"
)
