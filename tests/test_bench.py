"""`textanchor bench --quick` runs every section end to end on tiny offline data."""
import json

import pytest

from textanchor.cli import main


@pytest.mark.slow  # trains a dozen tiny models and fits t-SNE and UMAP: ~40 s on two cores
def test_quick_bench_writes_every_section(tmp_path):
    out = tmp_path / "results"
    assert main(["bench", "--quick", "--out", str(out), "--seeds", "0"]) == 0
    r = json.loads((out / "results.json").read_text())
    md = (out / "results.md").read_text()
    for key in ("quality/image/zero_shot_acc", "unseen_speaker/audio/zero_shot_acc", "loss/mse/image/zero_shot_acc/mean",
                "loss/infonce/audio/zero_shot_acc/std", "classifier/image/ratio", "classifier/audio/accuracy",
                "anchor/all-MiniLM-L6-v2/spoken/mean_offdiag_cos", "speed/search_1000/p50_ms", "speed/tsne_2d_s", "speed/umap_2d_s",
                "pictures/digits_test/acc", "pictures/synthetic/strokes/acc", "pictures/sketch/dot",
                "pictures/cost/prepare_mnist_vs_resize", "real_voices/noisy/hum/10dB/acc",
                "real_voices/noisy/babble/alone_refused", "meta/wall_seconds", "meta/torch"):
        assert key in r, key
    assert 0 <= r["quality/image/zero_shot_acc"] <= 1
    for title in ("Shipped recipe", "Which loss", "plain classifier", "Which anchor", "Speed", "Real pictures", "steady noise", "QUICK"):
        assert title in md
    assert (out / "checkpoint" / "model.safetensors").is_file()


def test_bench_without_data_is_refused(capsys):
    assert main(["bench", "--out", "x"]) == 2
    assert "--data" in capsys.readouterr().err
