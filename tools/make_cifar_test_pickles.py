#!/usr/bin/env python3
"""Writes the tiny CIFAR python-format fixtures under test/data/cifar/ (run once; the
outputs are committed and the tests never need Python).

    /usr/bin/python3 tools/make_cifar_test_pickles.py            # writes test/data/cifar/
    /usr/bin/python3 tools/make_cifar_test_pickles.py --bench DIR # 50,000-record files for timing only

Needs numpy (any 1.x/2.x). Three flavours are written:

* py2/  -- look-alikes of the official files, which were written by Python 2 cPickle:
           dict keys and byte strings as Py2 `str` (SHORT_BINSTRING / BINSTRING, or STRING
           in protocol 0), the numpy array via GLOBAL 'numpy.core.multiarray _reconstruct',
           'numpy ndarray', 'numpy dtype', REDUCE and BUILD with the raw pixel bytes as one
           BINSTRING. cifar-100-python/* and most CIFAR-10 batches use protocol 2,
           data_batch_5 and batches.meta protocol 1, test_batch protocol 0.
* py3/  -- what Python 3 `pickle.dumps(d, protocol=2)` writes: str keys as BINUNICODE and
           bytes (including the raw pixels) as _codecs.encode(<unicode>, 'latin1').

Pixel byte j of record r in a file with seed s is (7*j + 31*r + 53*s) % 256.
Labels: CIFAR-100 fine (17*s + 41*r) % 100, coarse (3*s + 7*r) % 20; CIFAR-10 (s + 3*r) % 10.
Seeds: CIFAR-100 train 1, test 2; CIFAR-10 data_batch_k k, test_batch 6.
test/data/cifar.test.ts uses the same formulas.
"""
import io
import os
import pickle
import struct
import sys

import numpy as np

CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']


def pixels(seed, n):
    r = np.arange(n, dtype=np.int64)[:, None]
    j = np.arange(3072, dtype=np.int64)[None, :]
    return ((7 * j + 31 * r + 53 * seed) % 256).astype(np.uint8)


def py2_repr(b):
    """repr() of a Python 2 str (what cPickle protocol 0 writes after 'S')."""
    quote = b"'"
    if b"'" in b and b'"' not in b:
        quote = b'"'
    out = bytearray(quote)
    for c in b:
        ch = bytes([c])
        if ch == quote or ch == b'\\':
            out += b'\\' + ch
        elif ch == b'\t':
            out += b'\\t'
        elif ch == b'\n':
            out += b'\\n'
        elif ch == b'\r':
            out += b'\\r'
        elif c < 32 or c >= 127:
            out += b'\\x%02x' % c
        else:
            out += ch
    out += quote
    return bytes(out)


class Py2Pickler(pickle._Pickler):
    """Pure-Python pickler that writes bytes and str like Python 2 cPickle wrote `str`."""

    def save_bytes(self, obj, text=None):
        key = text if text is not None else obj
        if self.proto >= 1:
            n = len(obj)
            if n < 256:
                self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
            else:
                self.write(pickle.BINSTRING + struct.pack('<i', n) + obj)
        else:
            self.write(pickle.STRING + py2_repr(obj) + b'\n')
        self.memoize(key)

    def save_str(self, obj):
        self.save_bytes(obj.encode('latin1'), text=obj)

    def save_global(self, obj, name=None):
        if getattr(obj, '__name__', None) == '_reconstruct':
            self.write(pickle.GLOBAL + b'numpy.core.multiarray\n_reconstruct\n')
            self.memoize(obj)
            return
        super().save_global(obj, name)

    dispatch = pickle._Pickler.dispatch.copy()
    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def dump_py2(path, obj, protocol):
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=protocol).dump(obj)
    with open(path, 'wb') as f:
        f.write(buf.getvalue())


def dump_py3(path, obj):
    with open(path, 'wb') as f:
        f.write(pickle.dumps(obj, protocol=2))


def cifar100_batch(seed, n, name):
    return {
        'filenames': ['img_%d_%d.png' % (seed, r) for r in range(n)],
        'batch_label': name,
        'fine_labels': [(17 * seed + 41 * r) % 100 for r in range(n)],
        'coarse_labels': [(3 * seed + 7 * r) % 20 for r in range(n)],
        'data': pixels(seed, n),
    }


def cifar100_meta():
    return {
        'fine_label_names': ['fine_%02d' % i for i in range(100)],
        'coarse_label_names': ['coarse_%02d' % i for i in range(20)],
    }


def cifar10_batch(seed, n, name):
    return {
        'batch_label': name,
        'labels': [(seed + 3 * r) % 10 for r in range(n)],
        'data': pixels(seed, n),
        'filenames': ['img_%d_%d.png' % (seed, r) for r in range(n)],
    }


def cifar10_meta():
    return {'num_cases_per_batch': 10000, 'label_names': CIFAR10_NAMES, 'num_vis': 3072}


def fixtures(root):
    d = os.path.join(root, 'py2', 'cifar-100-python')
    os.makedirs(d, exist_ok=True)
    dump_py2(os.path.join(d, 'train'), cifar100_batch(1, 2, 'training batch 1 of 1'), 2)
    dump_py2(os.path.join(d, 'test'), cifar100_batch(2, 1, 'testing batch 1 of 1'), 2)
    dump_py2(os.path.join(d, 'meta'), cifar100_meta(), 2)

    d = os.path.join(root, 'py2', 'cifar-10-batches-py')
    os.makedirs(d, exist_ok=True)
    for k in range(1, 6):
        dump_py2(os.path.join(d, 'data_batch_%d' % k), cifar10_batch(k, 1, 'training batch %d of 5' % k), 1 if k == 5 else 2)
    dump_py2(os.path.join(d, 'test_batch'), cifar10_batch(6, 1, 'testing batch 1 of 1'), 0)
    dump_py2(os.path.join(d, 'batches.meta'), cifar10_meta(), 1)

    d = os.path.join(root, 'py3', 'cifar-100-python')
    os.makedirs(d, exist_ok=True)
    dump_py3(os.path.join(d, 'train'), cifar100_batch(1, 2, 'training batch 1 of 1'))
    dump_py3(os.path.join(d, 'test'), cifar100_batch(2, 1, 'testing batch 1 of 1'))
    dump_py3(os.path.join(d, 'meta'), cifar100_meta())


def bench(root):
    d = os.path.join(root, 'cifar-100-python')
    os.makedirs(d, exist_ok=True)
    dump_py2(os.path.join(d, 'train'), cifar100_batch(1, 50000, 'training batch 1 of 1'), 2)
    dump_py2(os.path.join(d, 'test'), cifar100_batch(2, 10, 'testing batch 1 of 1'), 2)
    dump_py2(os.path.join(d, 'meta'), cifar100_meta(), 2)


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--bench':
        bench(sys.argv[2])
    else:
        here = os.path.dirname(os.path.abspath(__file__))
        fixtures(os.path.join(here, '..', 'test', 'data', 'cifar'))
