"""Real voices in steady background noise, scored the way the app hears a recording.

Each held-out clip becomes a recording as a microphone in a noisy room makes it: a stretch of
room before the word (0.3-1.0 s) and after it (0.3-0.8 s), and one noise (`textanchor.data.noise`:
white, pink, brown, mains hum, babble) over the WHOLE recording at an SNR measured against the
word's active level (`active_power`). The recording then goes through the app's path: the voice
detector's crop (`textanchor.vad.crop_to_speech`; a refusal counts as a miss), then the
checkpoint's own preparation and encoder. The noise alone, with no word in it, should be refused.

Everything is drawn from one seed per (kind, SNR, clip), so two runs build the same recordings.
Run by `textanchor bench --sections real_voices` (or `noisy_voices` for these rows alone).
"""
from __future__ import annotations

import numpy as np

from .data.noise import KINDS, active_power, add_noise, make_noise

SNRS_DB = (20, 10, 5)
BEFORE_S = (0.3, 1.0)  # room heard before the word starts
AFTER_S = (0.3, 0.8)


def noisy_recording(word: np.ndarray, sr: int, kind: str, snr_db: float, rng: np.random.Generator,
                    pool=None) -> np.ndarray:
    """One clip inside a longer recording with `kind` noise over all of it.

    Args:
        word: (T,) float clip holding one spoken word. sr: its rate in Hz.
        kind: one of `textanchor.data.noise.KINDS`. snr_db: word active level over noise level.
        rng: every random choice. pool: speech clips for babble (never the clips scored).
    Returns:
        (T + before + after,) float32.
    """
    w = np.asarray(word, np.float32)
    before = int(rng.uniform(*BEFORE_S) * sr)
    after = int(rng.uniform(*AFTER_S) * sr)
    rec = np.concatenate([np.zeros(before, np.float32), w, np.zeros(after, np.float32)])
    return add_noise(rec, make_noise(kind, len(rec), sr, rng, pool), snr_db, active_power(w, sr))


def score_noisy(embedder, items, labels, sr: int, pool, kinds=KINDS, snrs=SNRS_DB, seed: int = 0,
                n_alone: int = 20, log=print) -> dict:
    """Accuracy of a checkpoint on noisy recordings of labelled clips, and the refusal rate of
    the noise alone.

    Args:
        embedder: a `textanchor.pipeline.Embedder` with an audio branch.
        items: (T_i,) clips at `sr`. labels: (N,) indices into embedder.class_names.
        pool: babble source clips at `sr` (training speakers only).
        n_alone: noise-only recordings per kind (1.5-2.5 s each).
    Returns:
        Flat rows "noisy/<kind>/<snr>dB/{acc,refused}" (refused: share of the recordings with
        a word that the detector turned away) and "noisy/<kind>/alone_refused", "noisy/n".
    """
    from .vad import NoSpeech, crop_to_speech, speech_span

    labels = np.asarray(labels)
    rows: dict = {"noisy/n": float(len(items))}
    for ki, kind in enumerate(kinds):
        for snr in snrs:
            crops, ok = [], []
            for i, w in enumerate(items):
                rec = noisy_recording(w, sr, kind, snr, np.random.default_rng([seed, ki, int(snr), i]), pool)
                try:
                    crops.append(crop_to_speech(rec, sr))
                    ok.append(i)
                except NoSpeech:
                    pass
            correct = np.zeros(len(items), bool)
            if crops:
                pred = embedder.classify(embedder.embed("audio", crops, sr))[0]
                correct[ok] = pred == labels[ok]
            rows[f"noisy/{kind}/{snr}dB/acc"] = float(correct.mean())
            rows[f"noisy/{kind}/{snr}dB/refused"] = 1 - len(ok) / max(1, len(items))
            log(f"noisy voices: {kind} {snr} dB: {correct.mean():.1%} ({len(items) - len(ok)} refused)")
        rng = np.random.default_rng([seed, ki, 999])
        alone = [make_noise(kind, int(rng.uniform(1.5, 2.5) * sr), sr, rng, pool) * 0.05 for _ in range(n_alone)]
        if alone:
            rows[f"noisy/{kind}/alone_refused"] = float(np.mean([speech_span(x, sr) is None for x in alone]))
    return rows
