"""Google's speech embedding, a network trained for keyword spotting, as a frozen encoder of
spoken words.

The model (Lin et al., "Training Keyword Spotters with Limited and Synthesized Speech
Samples", ICASSP 2020; Apache-2.0) maps 775 ms of 32-band log-mel frames to 96 numbers, every
80 ms. It was trained on a very large corpus of spoken keywords, so it already separates words
across thousands of voices and microphones: a projector on it learns a word from a few dozen
speakers, where a network trained here from scratch needs thousands (docs/things.md).

The two TFLite files (log-mel front end and embedding) and the TFLite C runtime come in the PyPI
wheel `pyopen-wakeword` (Apache-2.0; the files are those of openWakeWord, D. Scripka), driven
here through ctypes as that package does, but a whole batch of windows per call.
"""
from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .base import register_encoder
from .frozen import FrozenFeatures

MISSING = ("the speech encoder needs the PyPI package pyopen-wakeword (in requirements.txt; it ships wheels "
           "for Linux x86_64 only): pip install -r requirements.txt")
SAMPLE_RATE = 16000
WINDOW_FRAMES, STEP_FRAMES, N_MELS, DIM = 76, 8, 32, 96  # 775 ms of frames, a vector every 80 ms


class _TFLite:
    """One TFLite model through the C API; `run` resizes the input to each batch's shape."""

    def __init__(self, lib, path: Path):
        self.lib = lib
        self.model = lib.TfLiteModelCreateFromFile(str(path).encode())
        self.interpreter = lib.TfLiteInterpreterCreate(self.model, None)
        self.shape: tuple | None = None

    def run(self, x: np.ndarray) -> np.ndarray:
        lib, it = self.lib, self.interpreter
        x = np.ascontiguousarray(x, np.float32)
        if x.shape != self.shape:
            dims = (ctypes.c_int32 * x.ndim)(*x.shape)
            lib.TfLiteInterpreterResizeInputTensor(it, ctypes.c_int32(0), dims, ctypes.c_int32(x.ndim))
            lib.TfLiteInterpreterAllocateTensors(it)
            self.shape = x.shape
        inp = lib.TfLiteInterpreterGetInputTensor(it, ctypes.c_int32(0))
        lib.TfLiteTensorCopyFromBuffer(inp, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(x.nbytes))
        if lib.TfLiteInterpreterInvoke(it) != 0:
            raise RuntimeError("the TFLite speech model failed to run")
        out = lib.TfLiteInterpreterGetOutputTensor(it, ctypes.c_int32(0))
        y = np.empty(lib.TfLiteTensorByteSize(out) // 4, np.float32)
        lib.TfLiteTensorCopyToBuffer(out, y.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(y.nbytes))
        return y.reshape([lib.TfLiteTensorDim(out, i) for i in range(lib.TfLiteTensorNumDims(out))])


class SpeechEmbedding(nn.Module):
    """(B, T) wave in [-1, 1] at 16 kHz (T >= 12,400, 775 ms) -> (B, W, 96), one vector per 80 ms
    step of a 775 ms window. Runs on the CPU whatever the input's device; one call at a time (a
    TFLite interpreter is not thread-safe, and the app searches from several threads)."""

    def __init__(self):
        super().__init__()
        try:
            import pyopen_wakeword
            from pyopen_wakeword.wakeword import TfLiteWakeWord
        except ImportError as e:
            raise ImportError(MISSING) from e
        root = Path(pyopen_wakeword.__file__).parent
        lib = TfLiteWakeWord(root / "lib" / "libtensorflowlite_c.so").lib  # sets the C API's signatures
        self.mel = _TFLite(lib, root / "models" / "melspectrogram.tflite")
        self.embedding = _TFLite(lib, root / "models" / "embedding_model.tflite")
        self.lock = threading.Lock()

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = wave.detach().float().cpu().numpy() * 32767.0  # the front end takes 16-bit sample values
        with self.lock:
            # One clip per call: the front end clips quiet frames relative to the loudest frame
            # of its whole input (80 dB below it), which would tie a clip's features to its batch.
            mels = np.stack([self.mel.run(x[i: i + 1])[0, 0] for i in range(len(x))]) / 10.0 + 2.0  # (B, F, 32)
            starts = range(0, mels.shape[1] - WINDOW_FRAMES + 1, STEP_FRAMES)
            win = np.stack([mels[:, s: s + WINDOW_FRAMES] for s in starts], 1)  # (B, W, 76, 32)
            b, w = win.shape[:2]
            emb = self.embedding.run(win.reshape(b * w, WINDOW_FRAMES, N_MELS, 1))
        return torch.from_numpy(emb.reshape(b, w, DIM)).to(wave.device)


def _mean_max(h: torch.Tensor) -> torch.Tensor:
    """(B, W, 96) -> (B, 192): what the word sounds like throughout, and its strongest moments."""
    return torch.cat([h.mean(1), h.amax(1)], 1)


@register_encoder("speech_embedding", modalities=("speech", "audio"))
def speech_embedding(input_shape):
    """input_shape: (T,) samples at 16 kHz, T >= 12,400 (the `speech` modality gives 1.5 s; the
    `audio` modality takes it with `"sample_rate": 16000`).
    Output (B, 192): the mean and maximum of the per-80-ms embeddings."""
    if len(input_shape) != 1 or input_shape[0] < WINDOW_FRAMES * 160 + 240:
        raise ValueError(f"speech_embedding takes (T,) waves of at least 0.775 s at 16 kHz, not {input_shape}")
    return FrozenFeatures(SpeechEmbedding(), 2 * DIM, _mean_max,
                          source="Google speech_embedding (pyopen-wakeword)")
