"""Hand-written safetensors reader/writer for gradleak's PyTorch tools (no `safetensors` package needed).

Layout: 8-byte little-endian u64 N, N bytes of UTF-8 JSON header (padded with spaces to a multiple
of 8) {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the
raw little-endian row-major bytes, tensors contiguous and in order; offsets relative to the buffer.
"""
import json, struct
import numpy as np
import torch

_NP = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8'}
_DEFAULT = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64'}


def write(path, tensors, metadata=None, dtype=None):
    """tensors: {name: torch.Tensor}; dtype forces 'F32'/'F64' on float tensors (integers stay I64)."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().cpu()
        dt = 'I64' if not t.is_floating_point() else (dtype or _DEFAULT[t.dtype])
        raw = np.ascontiguousarray(t.numpy().astype(_NP[dt])).tobytes()
        header[name] = {'dtype': dt, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


def read(path):
    """Returns ({name: torch.Tensor}, metadata dict)."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    buf = data[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        arr = np.frombuffer(buf[b:end], dtype=_NP[e['dtype']]).reshape(e['shape'])
        out[name] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder('=')).copy())
    return out, meta
