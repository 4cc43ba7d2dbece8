"""Tests of the Python binding against the real library: the installed package
(tests/examples.sh installs it with pip into a virtual environment and sets
PROVMARK_TEST_INSTALLED=1), or the tree's with PYTHONPATH=python:
    PYTHONPATH=python python3 -m unittest discover -s python/tests
"""
import array
import inspect
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np

import provmark


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
        emb = provmark.Embedder(48000, 2, self.key, 7, 42, channels_first=False)
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

    def test_every_format_version_is_written_and_read(self):
        x = music(10)
        self.assertIn(provmark.FORMAT_DEFAULT, (1, 2))
        outs = []
        for v in (1, 2):
            emb = provmark.Embedder(48000, 2, self.key, 7, 42)
            emb.set_format(v)
            y = emb.mark(x)
            outs.append(y)
            r = provmark.Detector(48000, 2, [self.key]).detect(y)
            self.assertTrue(r.found, f"version {v}")
            self.assertEqual((r.model_id, r.dataset_id), (7, 42))
            self.assertEqual(len(r.marks), 1)
            self.assertLess(r.p_false, 1e-9)
            self.assertEqual((r.formats, r.marks[0].formats, r.to_dict()["formats"]), ([v], [v], [v]))
        self.assertGreater(np.max(np.abs(outs[0] - outs[1])), 0.0)  # two geometries
        # One key, the same IDs, 15 s in each version: one mark read in both.
        x = music(30)
        half = 15 * 48000
        ys = []
        for v in (1, 2):
            emb = provmark.Embedder(48000, 2, self.key, 7, 42)
            emb.set_format(v)
            ys.append(emb.mark(x))
        r = provmark.Detector(48000, 2, [self.key]).detect(np.concatenate([ys[0][:half], ys[1][half:]]))
        self.assertEqual([(m.model_id, m.dataset_id, m.formats) for m in r.marks], [(7, 42, [1, 2])])
        emb = provmark.Embedder(48000, 2, self.key, 7, 42)
        for bad in (0, 3, -1):
            with self.assertRaises(provmark.ProvmarkError):
                emb.set_format(bad)
        for bad in (1.0, "2", True):
            with self.assertRaises(TypeError):
                emb.set_format(bad)
        for bad in (2 ** 32 + 1, 2 ** 64 + 2, -2 ** 40):  # refused, not truncated to 1 or 2
            with self.assertRaises(ValueError):
                emb.set_format(bad)
        emb.set_format(np.int64(1))  # numpy integers are ints

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

    def test_expected_ids_recognise_weak_marks_and_never_others(self):
        x = music(40)
        # At strength 1 format 2 decodes these 3 s clips blind (9 of 9): a weak mark here.
        emb = provmark.Embedder(48000, 2, self.key, 7, 42, strength=0.5)
        y = np.concatenate([emb.process(x), emb.flush()])[emb.latency:]
        clips = [y[int(s * 48000):int((s + 3) * 48000)] for s in range(2, 38, 4)]
        blind = provmark.Detector(48000, 2, [self.key])
        expect = provmark.Detector(48000, 2, [self.key])
        expect.expect(7, 42)
        near = provmark.Detector(48000, 2, [self.key])
        for m, d in [(7, 43), (6, 42), (8, 42), (7, 41)]:
            near.expect(m, d, key=self.key)
        found_blind = sum(blind.detect(c).found for c in clips)
        results = [expect.detect(c) for c in clips]
        found = [r for r in results if r.found]
        self.assertGreater(len(found), found_blind)  # 3 s clips: recognised, not decoded
        self.assertTrue(all((r.model_id, r.dataset_id) == (7, 42) for r in found))
        self.assertTrue(any(r.recognised and r.marks[0].recognised for r in found))
        self.assertTrue(all(r.p_false <= 1e-9 for r in found))
        self.assertEqual(found[0].to_dict()["recognised"], found[0].recognised)
        for c in clips:  # expecting near IDs only: what is decoded blind, never a near pair
            self.assertTrue(all((m.model_id, m.dataset_id, m.recognised) == (7, 42, False) for m in near.detect(c).marks))
        with self.assertRaises(ValueError):
            expect.expect(1, provmark.ID_MAX + 1)
        with self.assertRaises(ValueError):
            expect.expect(1, 1, key=provmark.Key.generate())

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
        with self.assertRaises(provmark.ProvmarkError) as cm:
            provmark.Key.load("/nonexistent/provmark.key")
        self.assertIn("/nonexistent/provmark.key: key file missing", str(cm.exception))
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.key")
            with open(bad, "wb") as f:
                f.write(b"not a key\n")
            with self.assertRaises(provmark.ProvmarkError) as cm:
                provmark.Key.load(bad)
            self.assertIn("malformed key file", str(cm.exception))
            with self.assertRaises(provmark.ProvmarkError) as cm:
                provmark.Key.load(d)
            self.assertIn("not a regular file", str(cm.exception))
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
        for bad in (48000.9, 44100.5):  # no audio has a fractional rate: refused, not truncated
            with self.assertRaises(ValueError):
                provmark.Embedder(bad, 2, self.key, 7, 42)
            with self.assertRaises(ValueError):
                provmark.Detector(bad, 2, [self.key])
        provmark.Detector(48000.0, 2, [self.key])  # a whole number as a float is fine
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


class PackageTest(unittest.TestCase):
    """The layouts, batches and inputs of generation code, and the package itself."""
    key = provmark.Key.demo()

    def test_a_library_without_the_bindings_functions_is_an_import_error(self):
        # An older libprovmark (or another library) lacks functions this binding calls:
        # importing must say which and that a newer one is needed, not fail later with an
        # AttributeError. libsndfile is a real library with none of them.
        import ctypes.util
        other = ctypes.util.find_library("sndfile")
        self.assertIsNotNone(other)
        env = dict(os.environ, PROVMARK_LIBRARY=other)
        run = subprocess.run([sys.executable, "-c", "import provmark"], env=env, capture_output=True, text=True)
        self.assertNotEqual(run.returncode, 0)
        last = run.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("ImportError: provmark: "), last)
        self.assertIn("has no pm_", last)
        self.assertIn("needs a newer libprovmark", last)

    @unittest.skipUnless(os.environ.get("PROVMARK_TEST_INSTALLED"), "tree run")
    def test_installed_package_loads_its_bundled_library(self):
        here = os.path.dirname(os.path.abspath(provmark.__file__))
        self.assertIn("-packages", here)
        self.assertEqual(provmark.library_path, os.path.join(here, "libprovmark.so.1"))

    def test_batch_channels_first_marked_and_each_item_detected(self):
        # (batch, channels, frames) as a generator returns it; items of different music
        batch = np.stack([music(6, seed=s).T for s in range(4)])
        self.assertEqual(batch.shape, (4, 2, 6 * 48000))
        emb = provmark.Embedder(48000, 2, self.key, 4321, 8765, channels_first=True)
        y = emb.mark_batch(batch)
        self.assertEqual((y.shape, y.dtype), (batch.shape, np.float32))
        for i in range(4):  # each item is marked as mark() marks it alone
            np.testing.assert_array_equal(y[i], emb.mark(batch[i]))
        det = provmark.Detector(48000, 2, [self.key], channels_first=True)
        results = det.detect_batch(y)
        self.assertEqual([(r.found, r.model_id, r.dataset_id) for r in results], [(True, 4321, 8765)] * 4)
        self.assertFalse(any(r.found for r in det.detect_batch(batch)))
        # the same in the (batch, frames, channels) layout
        y2 = provmark.Embedder(48000, 2, self.key, 4321, 8765).mark_batch(batch.transpose(0, 2, 1))
        np.testing.assert_array_equal(y2, y.transpose(0, 2, 1))

    def test_one_second_batch_is_marked_in_shape(self):
        # (4, 2, 48000): one second per item is marked, shape and layout kept; a second
        # is less than one payload period (2.97 s), too short to be detected.
        batch = np.stack([music(1, seed=s).T for s in range(4)])
        y = provmark.Embedder(48000, 2, self.key, 1, 2, channels_first=True).mark_batch(batch)
        self.assertEqual(y.shape, (4, 2, 48000))
        for i in range(4):
            self.assertGreater(np.max(np.abs(y[i] - batch[i])), 1e-4)
            self.assertLess(np.max(np.abs(y[i] - batch[i])), 0.1)

    def test_16khz_batch_of_48000_frames_each_item_detected(self):
        # (4, 2, 48000) from a 16 kHz generator (AudioLDM's rate): 3 s per item, one
        # payload period; a period alone needs strength 2 to be read (docs/BENCHMARKS.md:
        # 3 s clips at the default strength are at the edge).
        batch = np.stack([music(3, rate=16000, seed=s).T for s in range(4)])
        self.assertEqual(batch.shape, (4, 2, 48000))
        y = provmark.Embedder(16000, 2, self.key, 4321, 8765, strength=2.0, channels_first=True).mark_batch(batch)
        results = provmark.Detector(16000, 2, [self.key], channels_first=True).detect_batch(y)
        self.assertEqual([(r.found, r.model_id, r.dataset_id) for r in results], [(True, 4321, 8765)] * 4)

    def test_channels_first_streaming_equals_whole_signal(self):
        x = music(4)
        whole = provmark.Embedder(48000, 2, self.key, 7, 42).mark(x)
        emb = provmark.Embedder(48000, 2, self.key, 7, 42, channels_first=True)
        np.testing.assert_array_equal(emb.mark(x.T), whole.T)
        parts = [emb.process(c) for c in np.array_split(x.T, 37, axis=1)] + [emb.flush()]
        y = np.concatenate(parts, axis=1)[:, emb.latency:]
        self.assertEqual(y.shape, x.T.shape)
        np.testing.assert_array_equal(y, whole.T)

    def test_ambiguous_and_wrong_orientation_refused(self):
        emb = provmark.Embedder(48000, 2, self.key, 7, 42)
        det = provmark.Detector(48000, 2, [self.key])
        square = np.zeros((2, 2), np.float32)
        for call in (emb.process, emb.mark, det.push):
            with self.assertRaisesRegex(ValueError, "channels_first"):
                call(square)
        with self.assertRaisesRegex(ValueError, "channels_first=True"):
            emb.process(np.zeros((2, 960), np.float32))
        with self.assertRaisesRegex(ValueError, "channels_first"):
            emb.mark_batch(np.zeros((4, 2, 2), np.float32))
        with self.assertRaisesRegex(ValueError, "batch"):
            emb.mark_batch(np.zeros((2, 960), np.float32))
        with self.assertRaises(ValueError):
            emb.process(np.zeros(960, np.float32))  # 1-D is mono only
        with self.assertRaises(TypeError):
            provmark.Embedder(48000, 2, self.key, 7, 42, channels_first="yes")
        # declared, a square chunk is two frames either way
        for cf in (False, True):
            e = provmark.Embedder(48000, 2, self.key, 7, 42, channels_first=cf)
            self.assertEqual(e.process(square).shape, (2, 2))
        with self.assertRaises(ValueError):
            provmark.Embedder(48000, 2, self.key, 7, 42, channels_first=True).process(
                np.zeros((960, 2), np.float32))

    def test_array_interface_and_buffer_protocol_inputs(self):
        x = music(6)

        class Tensor:  # what a CPU torch tensor offers numpy: __array__
            def __init__(self, a):
                self.a = a

            def __array__(self, dtype=None):
                return self.a if dtype is None else self.a.astype(dtype)

        want = provmark.Embedder(48000, 2, self.key, 3, 4).mark(x)
        emb = provmark.Embedder(48000, 2, self.key, 3, 4, channels_first=True)
        np.testing.assert_array_equal(emb.mark(Tensor(np.ascontiguousarray(x.T))), want.T)
        mv = memoryview(x)  # the buffer protocol, 2-D float32
        np.testing.assert_array_equal(provmark.Embedder(48000, 2, self.key, 3, 4).mark(mv), want)
        mono = array.array("h", (music(6, channels=1)[:, 0] * 32767).astype(np.int16).tobytes())
        y = provmark.Embedder(48000, 1, self.key, 5, 6).mark(mono)
        self.assertEqual((y.shape, y.dtype), ((len(mono),), np.float32))
        r = provmark.Detector(48000, 1, [self.key]).detect(memoryview(y))
        self.assertEqual((r.found, r.model_id, r.dataset_id), (True, 5, 6))
        with self.assertRaises(TypeError):
            provmark.Embedder(48000, 1, self.key, 5, 6).mark(array.array("B", b"\x00" * 100))

    def test_result_to_dict_is_json_with_the_cli_field_names(self):
        y = provmark.Embedder(48000, 2, self.key, 11, 12).mark(music(6))
        d = json.loads(json.dumps(provmark.Detector(48000, 2, [self.key]).detect(y).to_dict()))
        self.assertEqual((d["found"], d["model_id"], d["dataset_id"], d["demo_key"]), (True, 11, 12, True))
        self.assertEqual(d["key"], self.key.fingerprint)
        self.assertLess(d["p_false"], 1e-9)
        self.assertEqual(d["marks"][0]["model_id"], 11)
        self.assertGreater(d["segments"][0]["end"], 5.0)
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "result.schema.json")) as f:
            defs = json.load(f)["$defs"]
        names = {n for part in ("audio", "mark_fields", "marked") for n in defs[part].get("properties", {})}
        self.assertLessEqual(set(d) - {"attempts"}, set(names))
        other = provmark.Key.generate()
        none = provmark.Detector(48000, 2, [other]).detect(y).to_dict()
        self.assertEqual(set(none), {"found", "attempts"})
        self.assertFalse(none["found"])
        self.assertTrue(provmark.Detector(48000, 2, [other, self.key]).detect(y).to_dict()["demo_key"])

    def test_every_public_name_is_documented(self):
        for name in provmark.__all__:
            obj = getattr(provmark, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            self.assertTrue(obj.__doc__, name)
            for attr, member in vars(obj).items() if inspect.isclass(obj) else ():
                if attr.startswith("_") and attr != "__init__":
                    continue
                member = getattr(member, "__func__", member)  # classmethods
                if inspect.isfunction(member) or isinstance(member, property):
                    self.assertTrue(member.__doc__, f"{name}.{attr}")  # its own, not object's
        self.assertIn("channels_first", inspect.getdoc(provmark.Embedder))
        self.assertIn("(batch, channels, frames)", inspect.getdoc(provmark.Embedder.mark_batch))


if __name__ == "__main__":
    unittest.main()
