"""Tests of the Python binding against the real library (python3 -m unittest)."""
import os
import sys
import tempfile
import threading
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import provmark  # noqa: E402


def music(seconds, rate=48000, channels=2, seed=3):
    """Chords of harmonic tones changing every 250 ms, with plucks and a noise bed."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    seg = (t * 4).astype(int)
    roots = 110.0 * 2 ** rng.uniform(0, 2, size=(seg[-1] + 1, 3))
    v = np.zeros(n)
    for voice in range(3):
        f0 = roots[seg, voice]
        phase = 2 * np.pi * np.cumsum(f0) / rate
        for h in range(1, 9):
            v += np.sin(h * phase) / (4 * h)
    beat = t * 4 - seg
    v *= np.exp(-3 * beat)
    v += rng.standard_normal(n) * (0.02 + 0.08 * np.exp(-30 * beat))
    x = 0.15 * np.stack([v * (1.0 - 0.1 * c) for c in range(channels)], axis=1)
    return x.astype(np.float32)


class BindingTest(unittest.TestCase):
    key = provmark.Key.demo()

    def test_version_matches_the_library(self):
        self.assertRegex(provmark.version(), r"^1\.\d+\.\d+$")

    def test_limits_come_from_the_library(self):
        # The library's own limits: an ID fills its 24-bit field, the edges are accepted
        # and one past them is refused by the library, not by a copy in Python.
        self.assertEqual(provmark.ID_MAX, 2 ** 24 - 1)
        provmark.Embedder(48000, provmark.MAX_CHANNELS, self.key, provmark.ID_MAX,
                          provmark.ID_MAX, strength=provmark.STRENGTH_MAX).close()
        with self.assertRaises(provmark.ProvmarkError):
            provmark.Embedder(48000, 2, self.key, 1, 2, strength=provmark.STRENGTH_MAX + 0.5)
        with self.assertRaises(provmark.ProvmarkError):
            provmark.Embedder(48000, provmark.MAX_CHANNELS + 1, self.key, 1, 2)
        provmark.Detector(48000, 2, [self.key] * provmark.MAX_KEYS).close()
        with self.assertRaises(ValueError):
            provmark.Detector(48000, 2, [self.key] * (provmark.MAX_KEYS + 1))
        self.assertEqual(len(provmark._Result().segments), provmark._lib.pm_max_segments())

    def test_streaming_chunks_equal_whole_signal(self):
        x = music(4)
        whole = provmark.Embedder(48000, 2, self.key, 7, 42).mark(x)
        emb = provmark.Embedder(48000, 2, self.key, 7, 42)
        rng = np.random.default_rng(5)
        parts, i = [], 0
        while i < len(x):
            n = int(rng.integers(1, 3000))
            parts.append(emb.process(x[i:i + n]))
            i += n
        parts.append(emb.flush())
        y = np.concatenate(parts)[emb.latency:]
        self.assertEqual(y.shape, x.shape)
        np.testing.assert_array_equal(y, whole)

    def test_marks_are_detected_with_the_right_ids_and_only_with_the_key(self):
        x = music(10)
        y = provmark.Embedder(48000, 2, self.key, 123456, 654321).mark(x)
        self.assertGreater(np.max(np.abs(y - x)), 0.0)
        r = provmark.Detector(48000, 2, [self.key]).detect(y)
        self.assertTrue(r.found)
        self.assertEqual((r.model_id, r.dataset_id), (123456, 654321))
        self.assertLess(r.p_false, 1e-9)
        self.assertTrue(r.segments and r.segments[0].end > 9.0)
        self.assertFalse(provmark.Detector(48000, 2, [self.key]).detect(x).found)
        other = provmark.Key.generate()
        self.assertFalse(provmark.Detector(48000, 2, [other]).detect(y).found)
        r2 = provmark.Detector(48000, 2, [other, self.key]).detect(y)
        self.assertTrue(r2.found)
        self.assertIs(r2.key, self.key)

    def test_ids_changed_mid_stream_are_two_marks_with_their_own_ranges(self):
        x = music(36)
        emb = provmark.Embedder(48000, 2, self.key, 7, 42)
        half = 18 * 48000
        y = [emb.process(x[:half])]
        emb.set_ids(7, 43)  # one bit away; takes effect at the next payload boundary
        y += [emb.process(x[half:]), emb.flush()]
        y = np.concatenate(y)[emb.latency:]
        r = provmark.Detector(48000, 2, [self.key]).detect(y)
        got = sorted((m.model_id, m.dataset_id) for m in r.marks)
        self.assertEqual(got, [(7, 42), (7, 43)])
        self.assertEqual((r.model_id, r.dataset_id), (r.marks[0].model_id, r.marks[0].dataset_id))
        first = next(m for m in r.marks if m.dataset_id == 42)
        second = next(m for m in r.marks if m.dataset_id == 43)
        # the change lands within one payload period (2.97 s) after 18 s
        self.assertLess(abs(first.segments[-1].end - 19.5), 3.0)
        self.assertAlmostEqual(second.segments[0].start, first.segments[-1].end, delta=0.01)
        self.assertIs(second.key, self.key)
        self.assertLess(second.p_false, 1e-9)

    def test_mono_one_dimensional_arrays(self):
        x = music(8, rate=44100, channels=1)[:, 0]
        y = provmark.Embedder(44100, 1, self.key, 1, 2).mark(x)
        self.assertEqual(y.shape, x.shape)
        r = provmark.Detector(44100, 1, [self.key]).detect(y)
        self.assertEqual((r.found, r.model_id, r.dataset_id), (True, 1, 2))

    def test_library_errors_raise_with_its_message(self):
        with self.assertRaises(provmark.ProvmarkError) as cm:
            provmark.Embedder(48000, 9, self.key, 1, 2)
        self.assertIn("channel", str(cm.exception))
        self.assertLess(cm.exception.status, 0)
        with self.assertRaises(ValueError) as cm:
            provmark.Embedder(48000, 2, self.key, provmark.ID_MAX + 1, 2)
        self.assertIn("IDs are 0..%d" % provmark.ID_MAX, str(cm.exception))
        with self.assertRaises(provmark.ProvmarkError):
            provmark.Embedder(1000, 2, self.key, 1, 2)
        with self.assertRaises(provmark.ProvmarkError):
            provmark.Key.load("/nonexistent/provmark.key")
        emb = provmark.Embedder(48000, 2, self.key, 1, 2)
        with self.assertRaises(ValueError):
            emb.process(np.zeros((10, 3), dtype=np.float32))
        emb.close()
        with self.assertRaises(ValueError):
            emb.process(np.zeros((10, 2), dtype=np.float32))

    def test_arguments_are_checked_not_truncated_or_guessed(self):
        for bad in (2**32 + 7, -1, provmark.ID_MAX + 1):
            with self.assertRaises(ValueError):
                provmark.Embedder(48000, 2, self.key, bad, 2)
        for bad in (7.9, "7", None, True):
            with self.assertRaises(TypeError):
                provmark.Embedder(48000, 2, self.key, 7, bad)
        for bad in ("/etc/provmark/model.key", None, b"k" * 32):
            with self.assertRaises(TypeError):
                provmark.Embedder(48000, 2, bad, 7, 42)
            with self.assertRaises(TypeError):
                provmark.Detector(48000, 2, [bad])
        emb = provmark.Embedder(48000, 2, self.key, 7, 42)
        with self.assertRaises(TypeError):
            emb.set_ids(7, 42.0)
        chunk = np.zeros((960, 2), dtype=np.float32)
        frozen = np.zeros((960, 2), dtype=np.float32)
        frozen.setflags(write=False)
        with self.assertRaises(ValueError):
            emb.process(chunk, out=frozen)
        # int16 PCM is scaled by its full scale: the marked result stays within [-1, 1].
        x = (music(8) * 32767).astype(np.int16)
        y = provmark.Embedder(48000, 2, self.key, 7, 42, strength=2).mark(x)
        self.assertEqual(y.dtype, np.float32)
        self.assertLess(np.max(np.abs(y)), 1.0)
        self.assertGreater(np.max(np.abs(y)), 0.05)
        with self.assertRaises(TypeError):
            emb.process(np.zeros((10, 2), dtype=np.uint8))

    def test_key_files_round_trip_and_refuse_overwrite(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "k.key")
            k = provmark.Key.generate()
            k.save(path)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            self.assertEqual(provmark.Key.load(path).fingerprint, k.fingerprint)
            with self.assertRaises(provmark.ProvmarkError):
                k.save(path)
        self.assertTrue(provmark.Key.demo().is_demo)
        self.assertFalse(k.is_demo)

    def test_float64_and_strided_input_are_accepted(self):
        x = music(2)
        emb = provmark.Embedder(48000, 2, self.key, 5, 6)
        a = emb.mark(x)
        b = emb.mark(np.asfortranarray(x.astype(np.float64)))
        np.testing.assert_array_equal(a, b)

    def test_one_embedder_per_thread_in_parallel(self):
        x = music(3)
        want = provmark.Embedder(48000, 2, self.key, 9, 9).mark(x)
        got = [None] * 4

        def work(i):
            got[i] = provmark.Embedder(48000, 2, self.key, 9, 9).mark(x)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for g in got:
            np.testing.assert_array_equal(g, want)


if __name__ == "__main__":
    unittest.main()
