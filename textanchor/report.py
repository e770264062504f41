"""results.json -> results.md: the tables the README shows."""
from __future__ import annotations

from pathlib import Path

# Targets of the shipped checkpoint (held out), as published in the README.
TARGETS = [
    ("MNIST zero-shot accuracy", "quality/image/zero_shot_acc", 0.993),
    ("FSDD official test zero-shot", "quality/audio/zero_shot_acc", 0.97),
    ("FSDD unseen speaker zero-shot", "unseen_speaker/audio/zero_shot_acc", 0.85),
    ("image->audio P@1 (never paired)", "quality/image_to_audio/P@1", 0.97),
    ("image mean cosine to own text", "quality/image/mean_cosine", 0.97),
]


def _f(v, pct=False) -> str:
    if v is None:
        return "n/a"
    return f"{100 * v:.2f}%" if pct else f"{v:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def quality_table(r: dict, prefix: str) -> list[str]:
    mods = sorted({k.split("/")[1] for k in r if k.startswith(prefix) and k.endswith("/zero_shot_acc") and k.count("/") == 2})
    rows = []
    for m in mods:
        g = lambda k: r.get(f"{prefix}{k}")  # noqa: E731
        rows.append([m, _f(g(f"{m}/zero_shot_acc"), True), _f(g(f"{m}/mean_cosine")), _f(g(f"text_to_{m}/mAP")),
                     _f(g(f"{m}_to_text/P@1"), True), _f(g(f"{m}/probe_80_20"), True), _f(g(f"{m}/probe_20_80"), True),
                     _f(g(f"{m}/modality_gap")), str(int(g(f"{m}/n") or 0))])
    out = _table(["modality", "zero-shot", "mean cos", "text->X mAP", "X->text P@1", "probe 80/20", "probe 20/80",
                  "gap", "n"], rows)
    pairs = sorted({k[len(prefix):].rsplit("/", 1)[0] for k in r if k.startswith(prefix) and "_to_" in k
                    and not k[len(prefix):].startswith("text_to") and "_to_text" not in k})
    if pairs:
        out += [""] + _table(["emergent retrieval", "P@1", "R@5", "R@10", "mAP"],
                             [[p, _f(r.get(f"{prefix}{p}/P@1"), True), _f(r.get(f"{prefix}{p}/R@5"), True),
                               _f(r.get(f"{prefix}{p}/R@10"), True), _f(r.get(f"{prefix}{p}/mAP"))] for p in pairs])
    return out


def write_report(r: dict, path: str | Path) -> None:
    lines = ["# textanchor benchmark results", "",
             f"Machine: {r.get('meta/machine')} ({r.get('meta/processor')}, {r.get('meta/cpus')} threads), "
             f"torch {r.get('meta/torch')}, Python {r.get('meta/python')}; seeds {r.get('meta/seeds')}; "
             f"data {r.get('meta/data_root')}; {r.get('meta/date')}; wall time {r.get('meta/wall_seconds', 0) / 60:.1f} min"
             + (" (QUICK mode: tiny offline data, not publishable)" if r.get("meta/quick") else ""), ""]
    if "quality/image/zero_shot_acc" in r:
        lines += ["## Shipped recipe, held out (MNIST test, FSDD official test)", ""] + quality_table(r, "quality/")
        lines += ["", f"Training time: {r.get('quality/train_seconds', 0) / 60:.1f} min.", ""]
        lines += ["## Unseen speaker (FSDD speaker held out of training)", ""] + quality_table(r, "unseen_speaker/") + [""]
        lines += ["## Targets", ""] + _table(
            ["target", "measured", "goal", "met"],
            [[n, _f(r.get(k), True), _f(g, True), "yes" if r.get(k, -1) >= g else "no"] for n, k, g in TARGETS]) + [""]
    losses = sorted({k.split("/")[1] for k in r if k.startswith("loss/")})
    if losses:
        cols = ["image/zero_shot_acc", "audio/zero_shot_acc", "image_to_audio/P@1", "audio_to_image/P@1", "image/mean_cosine"]
        lines += ["## Which loss (same encoders and budget; mean ± std over seeds)", ""] + _table(
            ["loss", "image zero-shot", "audio zero-shot", "image->audio P@1", "audio->image P@1", "image mean cos"],
            [[l] + [f"{_f(r.get(f'loss/{l}/{c}/mean'))} ± {_f(r.get(f'loss/{l}/{c}/std'))}" for c in cols] for l in losses]) + [""]
    mods = sorted({k.split("/")[1] for k in r if k.startswith("classifier/")})
    if mods:
        lines += ["## Against a plain classifier (same encoder, batches and steps)", ""] + _table(
            ["modality", "anchored zero-shot", "classifier accuracy", "ratio"],
            [[m, _f(r.get(f"classifier/{m}/anchored_zero_shot_acc"), True), _f(r.get(f"classifier/{m}/accuracy"), True),
              _f(r.get(f"classifier/{m}/ratio"))] for m in mods]) + [""]
    runs = sorted({k.rsplit("/", 1)[0] for k in r if k.startswith("anchor/") and k.endswith("/mean_offdiag_cos")})
    if runs:
        lines += ["## Which anchor and template", ""] + _table(
            ["anchor / template", "mean cos between classes", "max", "image zero-shot", "audio zero-shot", "image->audio P@1"],
            [[k[len("anchor/"):], _f(r.get(f"{k}/mean_offdiag_cos")), _f(r.get(f"{k}/max_offdiag_cos")),
              _f(r.get(f"{k}/image/zero_shot_acc"), True), _f(r.get(f"{k}/audio/zero_shot_acc"), True),
              _f(r.get(f"{k}/image_to_audio/P@1"), True)] for k in runs])
        missing = [k.split("/")[1] + "/" + k.split("/")[2] for k in r if k.startswith("anchor/") and k.endswith("/available") and r[k] == 0]
        if missing:
            lines += ["", "Not loadable offline (not measured): " + ", ".join(missing)]
        lines += [""]
    from .bench_pictures import pictures_report

    lines += pictures_report(r)
    voices = sorted({k.rsplit("/", 1)[0] for k in r if k.startswith("real_voices/") and k.endswith("/pocketsphinx_acc")})
    if voices:
        lines += ["## Real voices (speakers never trained on) against PocketSphinx", ""] + _table(
            ["clips", "textanchor zero-shot", "PocketSphinx 5, ten-word grammar", "n"],
            [[k[len("real_voices/"):], _f(r.get(f"{k}/zero_shot_acc"), True), _f(r.get(f"{k}/pocketsphinx_acc"), True),
              str(int(r.get(f"{k}/n") or 0))] for k in voices])
        lines += ["", f"FSDD unseen speaker (theo held out): {_f(r.get('unseen_speaker/audio/zero_shot_acc'), True)}; "
                  f"no-speech inputs refused: {_f(r.get('real_voices/no_speech/refused'), True)} of "
                  f"{int(r.get('real_voices/no_speech/n') or 0)}.", ""]
    lines += _noisy_table(r)
    speed = {k: v for k, v in r.items() if k.startswith("speed/")}
    if speed:
        lines += ["## Speed on this machine", ""] + _table(["measure", "value"], [[k[6:], f"{v:.2f}"] for k, v in sorted(speed.items())])
    Path(path).write_text("\n".join(lines) + "\n")


def _noisy_table(r: dict) -> list[str]:
    """Held-out speakers in steady noise: accuracy per noise kind (rows) and SNR (columns)."""
    keys = [k for k in r if k.startswith("real_voices/noisy/") and k.endswith("dB/acc")]
    if not keys:
        return []
    kinds = list(dict.fromkeys(k.split("/")[2] for k in keys))
    snrs = sorted({k.split("/")[3] for k in keys}, key=lambda s: -float(s[:-2]))
    rows = [[kind] + [_f(r.get(f"real_voices/noisy/{kind}/{s}/acc"), True) for s in snrs]
            + [_f(r.get(f"real_voices/noisy/{kind}/alone_refused"), True)] for kind in kinds]
    return (["## Held-out speakers in steady noise (over the whole recording, through the app's path)", ""]
            + _table(["noise"] + [f"{s} SNR" for s in snrs] + ["noise alone refused"], rows)
            + ["", f"{int(r.get('real_voices/noisy/n') or 0)} clips per cell; see textanchor/noisy_voices.py.", ""])
