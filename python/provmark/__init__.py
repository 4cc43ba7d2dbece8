"""provmark: mark generated audio with a model ID and a dataset ID, in-process.

A thin ctypes binding of libprovmark (the C library of this project). Audio is
numpy float32, shaped (frames, channels) -- or (frames,) for mono -- with
samples in [-1, 1]. Errors raise ProvmarkError carrying the library's message.

    import numpy as np, provmark
    key = provmark.Key.load("model.key")
    emb = provmark.Embedder(48000, 2, key, model_id=7, dataset_id=42)
    for chunk in generator():            # any chunk length, e.g. 20 ms
        sink(emb.process(chunk))         # output lags input by emb.latency frames
    sink(emb.flush())                    # the last emb.latency frames

    det = provmark.Detector(48000, 2, [key])
    det.push(audio)
    result = det.finish()                # result.found, result.model_id, ...
    for mark in result.marks:            # every mark in the file, strongest first
        print(mark.model_id, mark.dataset_id, mark.segments)

The shared library is looked up in $PROVMARK_LIBRARY, then in the source tree's
build/lib, then on the system's library path (libprovmark.so.1).

License: MIT (LICENSE at the top of the source tree), as the library and the plugin.
"""
import ctypes
import ctypes.util
import os

import numpy as np

__all__ = ["ProvmarkError", "Key", "Embedder", "Detector", "Result", "Mark", "Segment",
           "version", "ID_MAX", "MAX_KEYS", "MAX_CHANNELS", "STRENGTH_MIN", "STRENGTH_MAX",
           "STRENGTH_DEFAULT"]

__license__ = "MIT"
_SONAME = "libprovmark.so.1"


def _load():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("PROVMARK_LIBRARY"),
                  os.path.join(here, "..", "..", "build", "lib", _SONAME),
                  _SONAME, ctypes.util.find_library("provmark")]
    errors = []
    for path in candidates:
        if not path:
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("provmark: cannot load libprovmark (set PROVMARK_LIBRARY): "
                      + "; ".join(errors))


_lib = _load()


def _limit(name, restype):
    fn = getattr(_lib, name)
    fn.restype = restype
    fn.argtypes = []
    return fn()


# The limits come from the library (include/provmark.h defines each once).
ID_MAX = _limit("pm_id_max", ctypes.c_uint32)
MAX_KEYS = _limit("pm_max_keys", ctypes.c_int)
MAX_CHANNELS = _limit("pm_max_channels", ctypes.c_int)
STRENGTH_MIN = _limit("pm_strength_min", ctypes.c_float)
STRENGTH_MAX = _limit("pm_strength_max", ctypes.c_float)
STRENGTH_DEFAULT = _limit("pm_strength_default", ctypes.c_float)
_MAX_SEGMENTS = _limit("pm_max_segments", ctypes.c_int)


class _Key(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint8 * 32)]


class _Segment(ctypes.Structure):
    _fields_ = [("start", ctypes.c_double), ("end", ctypes.c_double),
                ("score", ctypes.c_double)]


class _Result(ctypes.Structure):
    _fields_ = [("found", ctypes.c_int), ("key_index", ctypes.c_int),
                ("model_id", ctypes.c_uint32), ("dataset_id", ctypes.c_uint32),
                ("p_false", ctypes.c_double), ("sync_z", ctypes.c_double),
                ("speed", ctypes.c_double), ("tempo", ctypes.c_double),
                ("attempts", ctypes.c_int), ("n_segments", ctypes.c_int),
                ("segments", _Segment * _MAX_SEGMENTS)]


# This copy of struct pm_result must be the library's: refuse to load otherwise.
if ctypes.sizeof(_Result) != _limit("pm_result_size", ctypes.c_size_t):
    raise ImportError("provmark: this binding does not match the loaded libprovmark "
                      "(struct pm_result differs)")


class _Mark(ctypes.Structure):
    _fields_ = [("key_index", ctypes.c_int),
                ("model_id", ctypes.c_uint32), ("dataset_id", ctypes.c_uint32),
                ("p_false", ctypes.c_double), ("sync_z", ctypes.c_double),
                ("speed", ctypes.c_double), ("tempo", ctypes.c_double),
                ("n_segments", ctypes.c_int), ("segments", _Segment * _MAX_SEGMENTS)]


if ctypes.sizeof(_Mark) != _limit("pm_mark_size", ctypes.c_size_t):
    raise ImportError("provmark: this binding does not match the loaded libprovmark "
                      "(struct pm_mark differs)")


_vp = ctypes.c_void_p


def _sig(name, restype, *argtypes):
    fn = getattr(_lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_strerror = _sig("pm_strerror", ctypes.c_char_p, ctypes.c_int)
_version = _sig("pm_version_string", ctypes.c_char_p)
_key_generate = _sig("pm_key_generate", ctypes.c_int, ctypes.POINTER(_Key))
_key_demo = _sig("pm_key_demo", None, ctypes.POINTER(_Key))
_key_is_demo = _sig("pm_key_is_demo", ctypes.c_int, ctypes.POINTER(_Key))
_key_load = _sig("pm_key_load", ctypes.c_int, ctypes.POINTER(_Key), ctypes.c_char_p)
_key_save = _sig("pm_key_save", ctypes.c_int, ctypes.POINTER(_Key), ctypes.c_char_p)
_key_fp = _sig("pm_key_fingerprint", None, ctypes.POINTER(_Key), ctypes.c_char * 17)
_emb_new = _sig("pm_embedder_new", ctypes.c_int, ctypes.POINTER(_vp), ctypes.c_double,
                ctypes.c_int, ctypes.POINTER(_Key), ctypes.c_uint32, ctypes.c_uint32,
                ctypes.c_float)
_emb_free = _sig("pm_embedder_free", None, _vp)
_emb_ids = _sig("pm_embedder_set_ids", ctypes.c_int, _vp, ctypes.c_uint32, ctypes.c_uint32)
_emb_strength = _sig("pm_embedder_set_strength", ctypes.c_int, _vp, ctypes.c_float)
# Sample buffers are passed as bare addresses: building a typed pointer per call
# (ndarray.ctypes.data_as) would cost a sixth of marking a 20 ms chunk.
_emb_process = _sig("pm_embedder_process_interleaved", ctypes.c_int, _vp, _vp, _vp,
                    ctypes.c_size_t)
_emb_flush = _sig("pm_embedder_flush_interleaved", ctypes.c_int, _vp, _vp)
_emb_latency = _sig("pm_embedder_latency", ctypes.c_size_t, _vp)
_emb_reset = _sig("pm_embedder_reset", None, _vp)
_emb_level = _sig("pm_embedder_mark_level_db", ctypes.c_double, _vp)
_det_new = _sig("pm_detector_new", ctypes.c_int, ctypes.POINTER(_vp), ctypes.c_double,
                ctypes.c_int, ctypes.POINTER(_Key), ctypes.c_int)
_det_free = _sig("pm_detector_free", None, _vp)
_det_push = _sig("pm_detector_push_interleaved", ctypes.c_int, _vp, _vp, ctypes.c_size_t)
_det_finish = _sig("pm_detector_finish", ctypes.c_int, _vp, ctypes.POINTER(_Result))
_det_reset = _sig("pm_detector_reset", None, _vp)
_det_mark_count = _sig("pm_detector_mark_count", ctypes.c_int, _vp)
_det_mark = _sig("pm_detector_mark", ctypes.c_int, _vp, ctypes.c_int, ctypes.POINTER(_Mark))


class ProvmarkError(Exception):
    """A libprovmark call failed; .status is the library's pm_status code."""

    def __init__(self, status, context=None):
        self.status = status
        msg = _strerror(status).decode()
        super().__init__(f"{context}: {msg}" if context else msg)


def _check(status, context=None):
    if status < 0:
        raise ProvmarkError(status, context)


def version():
    """The loaded library's version, e.g. '1.0.0'."""
    return _version().decode()


class Key:
    """A 256-bit secret key. Key.load(path), Key.generate(), Key.demo()."""

    def __init__(self, raw=None):
        self._k = _Key()
        if raw is not None:
            raw = bytes(raw)
            if len(raw) != 32:
                raise ValueError("a provmark key is 32 bytes")
            ctypes.memmove(self._k.bytes, raw, 32)

    @classmethod
    def generate(cls):
        k = cls()
        _check(_key_generate(ctypes.byref(k._k)))
        return k

    @classmethod
    def demo(cls):
        """The documented public demo key: its marks prove nothing."""
        k = cls()
        _key_demo(ctypes.byref(k._k))
        return k

    @classmethod
    def load(cls, path):
        k = cls()
        _check(_key_load(ctypes.byref(k._k), os.fsencode(path)), os.fspath(path))
        return k

    def save(self, path):
        """Write a new key file with mode 0600; refuses to overwrite."""
        _check(_key_save(ctypes.byref(self._k), os.fsencode(path)), os.fspath(path))

    @property
    def is_demo(self):
        return bool(_key_is_demo(ctypes.byref(self._k)))

    @property
    def fingerprint(self):
        """Public 16-hex-digit name of the key."""
        buf = (ctypes.c_char * 17)()
        _key_fp(ctypes.byref(self._k), buf)
        return buf.value.decode()

    def __repr__(self):
        return f"<provmark.Key {self.fingerprint}{' (demo)' if self.is_demo else ''}>"


def _addr(a):
    """Address of an array's data; the buffer-protocol path is the fastest one."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError):  # read-only or empty arrays
        return a.ctypes.data


def _id(value, what):
    """An ID as the library takes it: a whole number 0..ID_MAX, never truncated."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= ID_MAX:
        raise ValueError(f"{what}: IDs are 0..{ID_MAX}, got {value}")
    return int(value)


def _number(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    return float(value)


def _key(key, what="key"):
    if not isinstance(key, Key):
        raise TypeError(f"{what} must be a provmark.Key (e.g. Key.load(path)), not {type(key).__name__}")
    return key


def _frames(audio, channels, what):
    """A C-contiguous float32 (frames, channels) view or copy of `audio`. Integer PCM
    is scaled to [-1, 1) by its type's full scale (int16 by 32768, ...)."""
    if (type(audio) is np.ndarray and audio.dtype == np.float32 and audio.ndim == 2
            and audio.shape[1] == channels and audio.flags.c_contiguous):
        return audio  # the common case, kept cheap: it runs once per chunk
    a = np.asarray(audio)
    if np.issubdtype(a.dtype, np.signedinteger):
        a = a.astype(np.float32) / np.float32(-np.iinfo(a.dtype).min)
    elif not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{what}: expected float or signed integer samples, got {a.dtype}")
    if a.ndim == 1 and channels == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.shape[1] != channels:
        raise ValueError(f"{what}: expected shape (frames, {channels}), got {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


class _Handle:
    """Owns one library handle; freed by close(), `with`, or garbage collection."""

    _free = None
    _h = None

    def __del__(self):
        self.close()

    def close(self):
        if self._h:
            type(self)._free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if not self._h:
            raise ValueError(f"provmark.{type(self).__name__} is closed")
        return self._h


class Embedder(_Handle):
    """Streaming embedder: process() chunks of any length, then flush()."""

    _free = staticmethod(_emb_free)

    def __init__(self, sample_rate, channels, key, model_id, dataset_id,
                 strength=STRENGTH_DEFAULT):
        self.channels = int(channels)
        h = _vp()
        _check(_emb_new(ctypes.byref(h), _number(sample_rate, "sample_rate"), self.channels,
                        ctypes.byref(_key(key)._k), _id(model_id, "model_id"),
                        _id(dataset_id, "dataset_id"), _number(strength, "strength")),
               "embedder")
        self._h = h

    @property
    def latency(self):
        """Frames by which the output lags the input."""
        return int(_emb_latency(self._handle()))

    @property
    def mark_level_db(self):
        """Mark energy relative to the signal over the last payload period (dB)."""
        return float(_emb_level(self._handle()))

    def set_ids(self, model_id, dataset_id):
        """New IDs from the next payload boundary on."""
        _check(_emb_ids(self._handle(), _id(model_id, "model_id"), _id(dataset_id, "dataset_id")))

    def set_strength(self, strength):
        _check(_emb_strength(self._handle(), _number(strength, "strength")))

    def process(self, chunk, out=None):
        """Mark a chunk; returns an array of the same shape (delayed by .latency).

        `out` (float32, C-contiguous, chunk's shape; may be the chunk itself)
        avoids allocating the result."""
        a = _frames(chunk, self.channels, "Embedder.process")
        if out is None:
            out = np.empty(a.shape, np.float32)
        elif (not isinstance(out, np.ndarray) or out.shape != a.shape or out.dtype != np.float32
              or not out.flags.c_contiguous or not out.flags.writeable):
            raise ValueError("Embedder.process: out must be a writable C-contiguous float32 array like chunk")
        dst = _addr(out)
        status = _emb_process(self._handle(), dst if out is a else _addr(a), dst, a.shape[0])
        if status < 0:
            raise ProvmarkError(status)
        return out if a is chunk or np.ndim(chunk) == 2 else out.reshape(np.shape(chunk))

    def flush(self):
        """End of stream: the last .latency frames; the embedder is then reset."""
        out = np.empty((self.latency, self.channels), dtype=np.float32)
        _check(_emb_flush(self._handle(), _addr(out)))
        return out

    def reset(self):
        _emb_reset(self._handle())

    def mark(self, audio):
        """Mark a whole signal at once: output aligned with the input, same shape."""
        self.reset()
        a = _frames(audio, self.channels, "Embedder.mark")
        lat = self.latency
        y = np.concatenate([self.process(a), self.flush()])[lat:]
        return y.reshape(np.shape(audio)) if np.ndim(audio) == 1 else y


class Segment:
    __slots__ = ("start", "end", "score")

    def __init__(self, start, end, score):
        self.start, self.end, self.score = start, end, score

    def __repr__(self):
        return f"Segment({self.start:.2f}-{self.end:.2f} s, {self.score:.1f} sigma)"


def _fill(obj, r, keys, found):
    """The fields that a mark and the summary of a file share (None where nothing was found)."""
    obj.model_id = int(r.model_id) if found else None
    obj.dataset_id = int(r.dataset_id) if found else None
    obj.key = keys[r.key_index] if found else None
    obj.p_false = float(r.p_false)
    obj.sync_z = float(r.sync_z)
    obj.speed = float(r.speed)
    obj.tempo = float(r.tempo)
    obj.segments = [Segment(s.start, s.end, s.score) for s in r.segments[:r.n_segments]]


class Mark:
    """One mark of a file: key, model_id, dataset_id, p_false, sync_z, speed, tempo, segments."""

    def __init__(self, m, keys):
        _fill(self, m, keys, True)

    def __repr__(self):
        spans = ", ".join(f"{s.start:.1f}-{s.end:.1f} s" for s in self.segments)
        return f"<provmark.Mark: model {self.model_id}, dataset {self.dataset_id}, {spans}>"


class Result:
    """What the detector found: found, model_id, dataset_id, p_false, segments, ...
    (of the strongest mark), and marks: every mark of the file, strongest first."""

    def __init__(self, r, keys, marks=()):
        self.marks = list(marks)
        self.found = bool(r.found)
        self.attempts = int(r.attempts)
        _fill(self, r, keys, self.found)

    def __repr__(self):
        if not self.found:
            return "<provmark.Result: no mark>"
        return (f"<provmark.Result: model {self.model_id}, dataset {self.dataset_id}, "
                f"p_false {self.p_false:.1e}>")


class Detector(_Handle):
    """Blind detector: push() audio in any number of calls, then finish()."""

    _free = staticmethod(_det_free)

    def __init__(self, sample_rate, channels, keys):
        if isinstance(keys, Key):
            keys = [keys]
        self.keys = [_key(k, "each key") for k in keys]
        self.channels = int(channels)
        if not 1 <= len(self.keys) <= MAX_KEYS:
            raise ValueError(f"Detector: give 1 to {MAX_KEYS} keys")
        arr = (_Key * len(self.keys))(*[k._k for k in self.keys])
        h = _vp()
        _check(_det_new(ctypes.byref(h), float(sample_rate), self.channels, arr,
                        len(self.keys)), "detector")
        self._h = h

    def push(self, audio):
        a = _frames(audio, self.channels, "Detector.push")
        _check(_det_push(self._handle(), _addr(a), a.shape[0]))

    def finish(self):
        """Decode everything pushed; afterwards only reset() or close()."""
        r = _Result()
        _check(_det_finish(self._handle(), ctypes.byref(r)))
        n = _det_mark_count(self._handle())
        _check(n)
        marks = []
        for i in range(n):
            m = _Mark()
            _check(_det_mark(self._handle(), i, ctypes.byref(m)))
            marks.append(Mark(m, self.keys))
        return Result(r, self.keys, marks)

    def reset(self):
        _det_reset(self._handle())

    def detect(self, audio):
        """Detect in one whole signal (resets first)."""
        self.reset()
        self.push(audio)
        return self.finish()
