"""The "real voices" bench section: a checkpoint on speakers it never heard, beside a classic
recognizer on the same clips, and the voice detector on inputs that hold no speech.
Run by `textanchor bench --sections real_voices` (see `textanchor.bench`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .data.combine import load_spec
from .data.espeak import VOICES


def section_real_voices(plan, checkpoint: Path, log) -> dict:
    """The checkpoint against real voices, beside PocketSphinx (ten-word grammar, no training)
    on exactly the same clips; and the share of generated no-speech inputs refused.

    Args:
        plan: a `textanchor.bench.BenchPlan` (data root; quick mode scores eSpeak voices instead).
        checkpoint: the trained folder. log: progress printer.
    Returns:
        Flat rows "real_voices/<set>[/<source>]/{zero_shot_acc,pocketsphinx_acc,n}",
        "real_voices/no_speech/{refused,n}" and the noisy rows of `section_noisy_voices`."""
    from .data.base import DIGIT_NAMES
    from .data.combine import relabel
    from .pipeline import Embedder
    from .speech_baseline import RATE, recognize_words
    from .vad import no_speech_examples, speech_span

    emb = Embedder.from_checkpoint(checkpoint)
    sr = emb.sample_rate("audio")
    names = list(emb.class_names)
    rows = {}
    sets = [("speech_digits_test", "speech_digits", {}), ("fsdd_test", "fsdd", {})]
    if plan.quick:
        sets = [("espeak_test", "espeak", {"voices": list(VOICES[:8]), "rates": [175], "pitches": [50]})]
    for key, name, opts in sets:
        s = load_spec(name, opts, "test", plan.data_root, sr)
        log(f"real_voices: {key} ({len(s)} clips)")
        y = relabel(s, names)
        pred = emb.classify(emb.embed("audio", s.items, sr))[0]
        # PocketSphinx's en-us model is wideband: give it the same clips at 16 kHz (FSDD is
        # recorded at 8 kHz, so there it hears them upsampled), not our 8 kHz copies.
        wide = load_spec(name, opts, "test", plan.data_root, RATE)
        if wide.sources != s.sources:
            raise RuntimeError(f"{name}: the 16 kHz and {sr} Hz loads differ")
        ps = np.array([names.index(w) if w in names else -1 for w in recognize_words(wide.items, RATE, DIGIT_NAMES)])
        rows[f"real_voices/{key}/zero_shot_acc"] = float((pred == y).mean())
        rows[f"real_voices/{key}/pocketsphinx_acc"] = float((ps == y).mean())
        rows[f"real_voices/{key}/n"] = float(len(s))
        if s.groups is not None and ":" in s.groups[0]:  # speech_digits: per source
            src = np.array([g.split(":")[0] for g in s.groups])
            for k in np.unique(src):
                rows[f"real_voices/{key}/{k}/zero_shot_acc"] = float((pred == y)[src == k].mean())
                rows[f"real_voices/{key}/{k}/pocketsphinx_acc"] = float((ps == y)[src == k].mean())
                rows[f"real_voices/{key}/{k}/n"] = float((src == k).sum())
    rows |= section_noisy_voices(plan, checkpoint, log, emb)
    ex = no_speech_examples()
    rows["real_voices/no_speech/refused"] = float(np.mean([speech_span(w, 16000) is None for w in ex.values()]))
    rows["real_voices/no_speech/n"] = float(len(ex))
    return rows


def section_noisy_voices(plan, checkpoint: Path, log, embedder=None) -> dict:
    """The held-out speakers again, each inside a recording with steady noise over all of it
    (`textanchor.noisy_voices`: white, pink, brown, mains hum, babble at 20, 10 and 5 dB SNR),
    through the app's path; and the share of the noise alone that the detector refuses.
    Babble is made of FSDD training clips (never the scored speakers). Quick mode: eSpeak
    voices at 16 kHz and babble of other eSpeak voices. Also run alone by
    `textanchor bench --sections noisy_voices`.

    Returns:
        Flat rows "real_voices/noisy/<kind>/<snr>dB/{acc,refused}",
        "real_voices/noisy/<kind>/alone_refused" and "real_voices/noisy/n"."""
    from .data.combine import relabel
    from .noisy_voices import score_noisy
    from .pipeline import Embedder

    emb = embedder or Embedder.from_checkpoint(checkpoint)
    rate = 16000  # what a microphone hands the app; the checkpoint resamples to its own rate
    if plan.quick:  # two voices, five noise-only recordings per kind: every row, under half the VAD work
        s = load_spec("espeak", {"voices": list(VOICES[:2]), "rates": [175], "pitches": [50], "split": "all"}, "test", None, rate)
        pool = load_spec("espeak", {"voices": list(VOICES[8:12]), "rates": [175], "pitches": [50], "split": "all"}, "test", None, rate).items
    else:
        s = load_spec("speech_digits", {}, "test", plan.data_root, rate)
        pool = load_spec("fsdd", {}, "train", plan.data_root, rate).items
    log(f"real_voices: noisy recordings of {len(s)} clips")
    rows = score_noisy(emb, s.items, relabel(s, list(emb.class_names)), rate, pool, log=log,
                       snrs=(20, 10) if plan.quick else (20, 10, 5), n_alone=5 if plan.quick else 20)
    return {f"real_voices/{k}": v for k, v in rows.items()}
