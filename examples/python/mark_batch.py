#!/usr/bin/python3
"""Mark a generator's batch output, (batch, channels, frames) float32, in one call.

Generation code (MusicGen/AudioCraft at 32 kHz, Stable Audio at 44.1 kHz) holds its
output as a torch tensor shaped (batch, channels, frames). provmark takes anything
numpy can view: for a CPU tensor, `tensor.numpy()` shares its memory (no copy); a
GPU tensor needs `.cpu()` first. torch is not needed here: without it, this example
makes the same batch as a numpy array.

usage: mark_batch.py [--ids MODEL DATASET] [--rate HZ] [--seconds S] [--key FILE]
Prints one JSON line per item (Result.to_dict()) and exits 0 when every item carries
the IDs. Run it from the source tree after `make`, or with the package installed.
"""
import argparse
import json
import os
import sys

import numpy as np

try:
    import provmark
except ImportError:  # not installed: the source tree's package
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    import provmark

try:
    import torch
except ImportError:
    torch = None


def generate(batch, channels, frames, rate):
    """A stand-in model: per item, random chords changing 4 times a second, plucked,
    over a noise bed."""
    t = np.arange(frames) / rate
    step = (t * 4).astype(int)
    out = np.empty((batch, channels, frames), np.float32)
    for b in range(batch):
        rng = np.random.default_rng(b)
        roots = 110.0 * 2 ** rng.uniform(0, 2, size=(step[-1] + 1, 3))
        phase = 2 * np.pi * np.cumsum(roots[step], axis=0) / rate
        tone = sum(np.sin(h * phase).sum(axis=1) / (4 * h) for h in range(1, 9))
        v = 0.15 * (tone * np.exp(-3 * (t * 4 - step)) + 0.05 * rng.standard_normal(frames))
        out[b] = [v * (1 - 0.1 * c) for c in range(channels)]
    return torch.from_numpy(out) if torch else out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ids", type=int, nargs=2, default=(7, 42), metavar=("MODEL", "DATASET"))
    ap.add_argument("--rate", type=int, default=32000, help="Hz (MusicGen: 32000)")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each item")
    ap.add_argument("--key", help="key file (default: the public demo key)")
    args = ap.parse_args()
    model, dataset = args.ids
    try:
        key = provmark.Key.load(args.key) if args.key else provmark.Key.demo()
        emb = provmark.Embedder(args.rate, 2, key, model, dataset, channels_first=True)
    except (provmark.ProvmarkError, ValueError, TypeError) as e:
        sys.exit(f"mark_batch: {e}")

    audio = generate(4, 2, int(args.seconds * args.rate), args.rate)
    # A CPU tensor's .numpy() is a view of its memory; a numpy array is used as is.
    x = audio.numpy() if torch else audio
    marked = emb.mark_batch(x)                          # float32, same (4, 2, frames)
    if torch:
        marked = torch.from_numpy(marked)               # back to a tensor, no copy

    det = provmark.Detector(args.rate, 2, [key], channels_first=True)
    results = det.detect_batch(marked.numpy() if torch else marked)
    for i, r in enumerate(results):
        print(json.dumps({"item": i, **r.to_dict()}))
    return 0 if all((r.model_id, r.dataset_id) == (model, dataset) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
