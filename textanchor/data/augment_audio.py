"""Augmented copies of training speech: other rooms, microphones, levels and voices.

The `augmented` data set wraps other audio data sets and adds `copies` altered versions of each
training clip, made once with torchaudio's functional ops and cached on disk (the cache key is
the clips' sources, the settings and the seed; the first default run spends ~1 min making them, later runs
read them in seconds). One copy of one clip goes through, each with its own probability:

  speed perturbation  resampling by 0.85-1.15: tempo, pitch and formants move together, like a
                      shorter or longer vocal tract (Ko et al. 2015, "Audio augmentation for
                      speech recognition"; Kaldi's 3-way speed perturbation)
  reverberation       a synthetic room response, exponentially decaying noise with RT60 0.1-0.6 s
  band limit and EQ   high-pass 60-500 Hz, low-pass 1.8-3.8 kHz (telephone and laptop mics),
                      1-2 peaking filters of +-12 dB
  background noise    white to brown noise (spectral slope 0-2) at 0-30 dB SNR
  gain and clipping   any level, sometimes driven into full-scale clipping

and, where a recipe asks for it (`devoiced_onset`, off by default), a voiceless onset: 50-200 ms
of high-passed hiss rising into the word, whose first 0-60 ms lose their voicing. English
speakers often devoice a word-initial voiced fricative, many fully (Docherty 1992, "The timing of
voicing in British English obstruents"; Smith 1997, "The devoicing of /z/ in American English").
A "zero" said as "ssero" (FSDD's lucas: ~130 ms of hiss centred near 2 kHz where the training
speakers' voiced /z/ lasts 5-55 ms) was read as "two", whose aspirated /t/ is the one hissy onset
the training voices had; cutting his hiss fixed all 17 of those misses. Drawn for every word, so
the model learns that onset hiss alone names no word. Giving it only to words that begin with a
voiced obstruent ("zero") fixed fewer of his zeros; sparing words that begin with their own hiss
(/f s θ/) did as well as every word. Every word costs a little where a fricative is the cue
(five/nine, eight/six): docs/digits.md, "A zero said as ssero", has the runs.

Where a recipe asks for it (`babble`, off by default), a copy is also said among other talkers
(`babble_copy`): room before and after the word and 4-8 voices over all of it. A frozen encoder
(`speech_embedding`), whose features are computed once per clip, hears no per-step noise, so
this is where it learns a busy room (docs/digits.md, "A frozen speech encoder").

Time shift, gain and room noise over the whole window are drawn afresh each step
(`AudioModality.augment`, `modalities/audio_augment.py`) and
SpecAugment masks the log-mel while training (`LogMel`); those cost little to redo.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .audio_io import resample
from .noise import colored_noise
from .base import ItemSet
from .combine import concat, load_spec
from .datasets import DATASETS

SPEEDS = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15)  # a few factors: one cached resampler each
VERSION = 1  # bump when `augment_wave` changes, so caches are rebuilt


def devoiced_onset(wave: np.ndarray, sr: int, rng: np.random.Generator, seconds=(0.05, 0.2),
                   level_db=(-28.0, -12.0), cutoff_hz=(1000.0, 2500.0), devoice_s=(0.0, 0.06),
                   rel_db: float = -30.0) -> np.ndarray:
    """The clip with a voiceless onset: hiss inserted before the word, its start devoiced.

    The word starts at the first 10 ms frame within `rel_db` of the loudest (the rule that
    `trim_silence` keeps). Before it goes `seconds` of white noise high-passed at `cutoff_hz`
    (two biquads), `level_db` below the loudest frame's RMS, rising linearly from silence over
    30-100% of its length and crossfaded into the word over 10 ms. The word's first `devoice_s`
    are replaced by their own part above 1 kHz (the voicing bar and the first formant gone,
    the frication kept), fading back to the original over 10 ms. Each range is drawn uniformly.

    Args:
        wave: (T,) float32 mono clip. sr: its rate in Hz. rng: the source of every choice.

    Returns:
        (T + inserted,) float32; a clip too short to hold a 10 ms frame is returned unchanged.
    """
    import torch
    import torchaudio.functional as AF

    w = np.asarray(wave, np.float32)
    hop = max(1, int(sr * 0.01))
    n = len(w) // hop
    if n < 1:
        return w
    rms = np.sqrt((w[: n * hop].reshape(n, hop).astype(np.float64) ** 2).mean(1) + 1e-12)
    start = int(np.argmax(rms > rms.max() * 10 ** (rel_db / 20))) * hop
    fade = hop  # 10 ms
    # Devoice the word's start: keep only its part above 1 kHz, then fade back in.
    d = int(rng.uniform(*devoice_s) * sr)
    if d > 0:
        seg = torch.from_numpy(np.ascontiguousarray(w[start: start + d + fade]))[None]
        high = AF.highpass_biquad(seg, sr, 1000.0)[0].numpy()
        g = np.concatenate([np.zeros(min(d, len(high)), np.float32),
                            np.linspace(0, 1, max(0, len(high) - d), dtype=np.float32)])
        w = w.copy()
        w[start: start + len(high)] = high * (1 - g) + w[start: start + len(high)] * g
    # The hiss: unit RMS, high-passed twice (12 dB/octave), at its level under the loudest frame.
    length = max(2 * fade, int(rng.uniform(*seconds) * sr))
    x = torch.from_numpy(rng.standard_normal(length).astype(np.float32))[None]
    cut = float(min(rng.uniform(*cutoff_hz), 0.4 * sr))
    x = AF.highpass_biquad(AF.highpass_biquad(x, sr, cut), sr, cut)[0].numpy()
    x = x / (np.sqrt(np.mean(x ** 2)) + 1e-12) * np.float32(rms.max() * 10 ** (rng.uniform(*level_db) / 20))
    rise = max(1, int(length * rng.uniform(0.3, 1.0)))
    env = np.ones(length, np.float32)
    env[:rise] = np.linspace(0, 1, rise, dtype=np.float32)
    env[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    word = np.concatenate([w[start:], np.zeros(max(0, fade - (len(w) - start)), np.float32)])
    ramp = np.linspace(0, 1, fade, dtype=np.float32)
    # The hiss's last 10 ms fade out as the word's first 10 ms fade in.
    out = np.concatenate([w[:start], (x * env)[:-fade], (x * env)[-fade:] + word[:fade] * ramp, word[fade:]])
    return np.clip(out, -1, 1).astype(np.float32)


def babble_copy(wave: np.ndarray, sr: int, rng: np.random.Generator, pool: list, snr_db=(0.0, 20.0),
                context_s=(0.2, 0.6)) -> np.ndarray:
    """The clip said among other talkers: `context_s` of room before and after it, and babble
    (`data.noise.babble`: 4-8 talkers, each a stream of clips from `pool`) over all of it at
    `snr_db` below the word's active level (`data.noise.active_power`), each drawn uniformly.
    The window a frozen encoder sees is then what the app's voice detector hands it in a busy
    room: the word with voices around it, not the word in digital silence.

    Args:
        wave: (T,) float32 mono clip. sr: its rate in Hz. pool: (T_i,) clips at `sr`, the talkers.

    Returns:
        (T + context,) float32 within [-1, 1].
    """
    from .noise import active_power, add_noise, babble

    w = np.asarray(wave, np.float32)
    pre, post = (int(rng.uniform(*context_s) * sr) for _ in range(2))
    rec = np.concatenate([np.zeros(pre, np.float32), w, np.zeros(post, np.float32)])
    out = add_noise(rec, babble(len(rec), pool, rng), float(rng.uniform(*snr_db)), active_power(w, sr))
    return np.clip(out, -1, 1).astype(np.float32)


def augment_wave(wave: np.ndarray, sr: int, rng: np.random.Generator, devoiced_onset_prob: float = 0.0,
                 babble_prob: float = 0.0, babble_pool: list | None = None) -> np.ndarray:
    """One randomly altered copy of a clip (see the module docstring for the chain).

    Args:
        wave: (T,) float32 mono clip. sr: its rate in Hz. rng: the source of every choice.
        devoiced_onset_prob: chance of `devoiced_onset` first (0: never, and no draw is made,
            so copies made before it existed are unchanged).
        babble_prob: chance of `babble_copy` next, from `babble_pool` (0: never, no draw made),
            before the room, microphone and level of the rest of the chain.

    Returns:
        (T',) float32, finite, within [-1, 1]; T' differs from T after speed perturbation or
        reverberation.
    """
    import torch
    import torchaudio.functional as AF

    w = np.asarray(wave, np.float32)
    if devoiced_onset_prob > 0 and rng.random() < devoiced_onset_prob:
        w = devoiced_onset(w, sr, rng)
    if babble_prob > 0 and rng.random() < babble_prob:
        w = babble_copy(w, sr, rng, babble_pool or [])
    if rng.random() < 0.8:
        speed = float(rng.choice(SPEEDS))
        w = resample(w, int(round(sr * speed)), sr)  # played `speed` times faster
    x = torch.from_numpy(np.ascontiguousarray(w))[None]  # (1, T)
    if rng.random() < 0.5:
        rt60 = rng.uniform(0.1, 0.6)
        t = np.arange(int(rt60 * sr)) / sr
        rir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
        rir[0] = 1.0 / rng.uniform(0.3, 1.0)  # the direct sound, stronger in a small room
        rir = torch.from_numpy((rir / np.sqrt(np.sum(rir ** 2))).astype(np.float32))[None]
        x = AF.fftconvolve(x, rir)[:, : x.shape[1] + int(0.2 * sr)]
    if rng.random() < 0.7:
        x = AF.highpass_biquad(x, sr, float(rng.uniform(60, 500)))
        x = AF.lowpass_biquad(x, sr, float(min(rng.uniform(1800, 3800), 0.45 * sr)))
        for _ in range(int(rng.integers(1, 3))):
            x = AF.equalizer_biquad(x, sr, float(rng.uniform(200, 0.4 * sr)), float(rng.uniform(-12, 12)),
                                    float(rng.uniform(0.7, 2.0)))
    w = x[0].numpy().astype(np.float32)
    if rng.random() < 0.6:
        snr_db = rng.uniform(0, 30)
        power = float(np.mean(w ** 2)) + 1e-10
        w = w + colored_noise(len(w), rng.uniform(0, 2), rng) * np.float32(np.sqrt(power / 10 ** (snr_db / 10)))
    peak = float(np.abs(w).max()) + 1e-9
    if rng.random() < 0.1:  # a microphone driven into clipping
        w = np.clip(w * np.float32(rng.uniform(1.2, 3.0) / peak), -1, 1)
    else:
        w = w * np.float32(10 ** (rng.uniform(-30, 0) / 20) / peak)
    return np.nan_to_num(w).astype(np.float32)


def augment_set(s: ItemSet, copies: int, seed: int = 0, devoiced_onset: float = 0.0, babble: float = 0.0,
                babble_pool: list | None = None) -> ItemSet:
    """`s` followed by `copies` augmented versions of each item (same labels and groups).

    Item i's copy c is drawn from np.random.default_rng([seed, c, i]): the same data and seed
    give the same copies, in any process. `devoiced_onset`, `babble`: each copy's chance of a
    voiceless onset, of other talkers from `babble_pool` (`augment_wave`).
    """
    extra = [augment_wave(s.items[i], s.sample_rate, np.random.default_rng([seed, c, i]), devoiced_onset,
                          babble, babble_pool) for c in range(copies) for i in range(len(s))]
    return _with_copies(s, extra, copies)


def _with_copies(s: ItemSet, extra: list, copies: int) -> ItemSet:
    """`s` then `extra` (copy-major: all of copy 1, then copy 2, ...), labels repeated."""
    out = s.subset(np.tile(np.arange(len(s)), copies + 1))
    out.items = list(s.items) + list(extra)
    out.sources = [src if k < len(s) else f"{src}#aug{k // len(s)}" for k, src in enumerate(out.sources)]
    return out


def _cache_key(s: ItemSet, copies: int, seed: int, devoiced_onset: float = 0.0, babble: float = 0.0,
               babble_sources: list | None = None) -> str:
    """Named by the clips' sources (file paths, "espeak:voice:rate:pitch:word") and settings, not
    their samples: eSpeak NG's output differs by a few samples from call to call, which would
    make every run miss the cache. Replacing a file under the same name needs the cache cleared."""
    settings = [VERSION, copies, seed, s.sample_rate, s.sources]
    if devoiced_onset:  # (absent when off, so caches made before the option stay valid)
        settings.append({"devoiced_onset": devoiced_onset})
    if babble:
        settings.append({"babble": babble, "talkers": babble_sources or []})
    return hashlib.sha1(json.dumps(settings).encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    return Path(os.environ.get("TEXTANCHOR_CACHE", Path.home() / ".cache" / "textanchor")) / "augmented-audio"


@DATASETS.register("augmented")
def load_augmented(data: list, copies: int = 2, split: str = "train", seed: int = 0,
                   sample_rate: int = 8000, data_root: str | None = None, cache_dir=None,
                   devoiced_onset: float = 0.0, babble: float = 0.0, babble_data: list | None = None) -> ItemSet:
    """Other audio data sets, pooled, plus `copies` augmented versions of every training clip.

    Args:
        data: data set specs, [{"name": "fsdd", "options": {...}}, ...].
        copies: augmented versions per clip (0: just the pooled originals).
        split: "train" augments; any other split returns the pooled originals untouched.
        seed: seed of every augmentation choice.
        sample_rate: rate in Hz of the loaded and augmented clips.
        data_root: the folder the inner specs' data live in (as for a recipe's own specs).
        cache_dir: where augmented copies are kept; default $TEXTANCHOR_CACHE/augmented-audio
            (~/.cache/textanchor/augmented-audio). The cache is checked against the clips.
        devoiced_onset: each copy's chance of a voiceless onset (hiss rising into the word, its
            start devoiced; see the module docstring). 0 leaves copies as before the option.
        babble: each copy's chance of other talkers around the word (`babble_copy`). 0 leaves
            copies as before the option.
        babble_data: data set specs of the talkers, loaded with split "train" (None: the
            clips being augmented). Keep a benchmark's own babble talkers out of it.

    Returns:
        ItemSet whose first len(originals) items are the originals; copies' sources end in
        "#aug<k>".
    """
    sets = [load_spec(d["name"], dict(d.get("options", {})), split, data_root, sample_rate) for d in data]
    pooled = concat(sets)
    if split != "train" or copies <= 0:
        return pooled
    pool = None
    if babble:
        talkers = pooled if babble_data is None else concat(
            [load_spec(d["name"], dict(d.get("options", {})), "train", data_root, sample_rate) for d in babble_data])
        if len(talkers) == 0:
            raise ValueError("babble needs talkers: babble_data loaded no clips")
        pool = list(talkers.items)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = _cache_key(pooled, copies, seed, devoiced_onset, babble, None if pool is None else talkers.sources)
    path = folder / f"augmented-{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            extra = np.split(z["waves"], z["offsets"][1:-1])
        return _with_copies(pooled, extra, copies)
    out = augment_set(pooled, copies, seed, devoiced_onset, babble, pool)
    extra = out.items[len(pooled):]
    folder.mkdir(parents=True, exist_ok=True)
    # Renamed when complete (no half-written cache); per process, so two runs may race safely.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, waves=np.concatenate(extra), offsets=np.cumsum([0] + [len(x) for x in extra]))
    os.replace(tmp, path)
    return out
