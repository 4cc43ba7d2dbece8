#!/usr/bin/python3
"""A back end with no C binding: it streams WAV on stdout, chunk by chunk.

The length is not known in advance, so the header carries the streaming sizes
(0xFFFFFFFF, "read to the end") that `provmark embed - ...` accepts. Only the
standard library is used: any language that can write bytes to a pipe can do this.
usage: backend.py SECONDS > stream.wav   (48 kHz stereo, 16-bit)
"""
import math
import random
import struct
import sys

RATE, CHANNELS, CHUNK = 48000, 2, 960  # 20 ms


def header():
    fmt = struct.pack("<HHIIHH", 1, CHANNELS, RATE, RATE * CHANNELS * 2, CHANNELS * 2, 16)
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
            + fmt + b"data" + struct.pack("<I", 0xFFFFFFFF))


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    out, rng = sys.stdout.buffer, random.Random(4)
    out.write(header())
    notes = [261.6, 293.7, 329.6, 392.0, 440.0, 523.3]
    total, n = int(seconds * RATE), 0
    while n < total:
        frames = min(CHUNK, total - n)
        buf = bytearray()
        for i in range(n, n + frames):
            t = i / RATE
            beat = t % 0.25
            f = notes[int(t * 4) % len(notes)]
            v = sum(math.sin(2 * math.pi * f * h * t) / (h * h) for h in (1, 2, 3, 4))
            v = 0.2 * v * math.exp(-6 * beat) + 0.02 * rng.uniform(-1, 1)
            s = max(-32768, min(32767, int(v * 32767)))
            buf += struct.pack("<hh", s, int(0.9 * s))
        out.write(buf)
        n += frames
    out.flush()


if __name__ == "__main__":
    main()
