#!/usr/bin/env python3
"""Print numpy's own repr of many DBR-like arrays as JSON lines {"kind", "values", "repr"}: the expected
output of ca-shark's numpy-repr.ts. numpy wraps at 75 columns; caproto-shark lines are compared joined, so
the cases are printed with an unlimited line width. Usage: numpy-repr-cases.py > numpy-repr.jsonl"""
import json
import math
import random
import sys

import numpy as np

np.set_printoptions(linewidth=sys.maxsize)
KINDS = {'f64': '>f8', 'f32': '>f4', 'i16': '>i2', 'u16': '>u2', 'i32': '>i4', 'u8': 'B'}
rng = random.Random(20261206)


def case(kind, values):
    arr = np.array(values, dtype=np.float64 if kind in ('f64', 'f32') else np.int64).astype(KINDS[kind])
    # JSON has no NaN/inf: they travel as strings.
    out = [v if math.isfinite(v) else str(v) for v in arr.tolist()] if kind in ('f64', 'f32') else arr.tolist()
    print(json.dumps({'kind': kind, 'values': out, 'repr': repr(arr)}))


FLOATS = [
    [], [0.0], [-0.0], [72.0], [1.0, 2.0, 300.0], [0.1, 0.25], [1.5, 2.0], [1e-5, 1.5, 1e10],
    [2.50320809e-308, 0.0, 0.0], [float('nan'), float('inf'), -1.5], [float('nan')], [float('-inf'), 2.0],
    [123456789.0], [99999999.0], [0.0001], [0.00009999], [1.0, 1000.0], [1.0, 1001.0], [-3.25, 12.5, 0.0],
    [1 / 3, 2 / 3], [0.123456789, 1.0], [1e-300, 1e300], [22.123456785], [0.001953125, 1.0], [5e-324],
    list(range(2000)), [x / 7 for x in range(1500)], [math.pi * 10 ** e for e in range(-6, 9)],
]
for values in FLOATS:
    case('f64', values)
    case('f32', values)
for _ in range(200):
    n = rng.choice([1, 2, 3, 5, 10, 30])
    scale = 10 ** rng.randint(-9, 12)
    values = [round(rng.uniform(-1, 1) * scale, rng.randint(0, 12)) for _ in range(n)]
    case(rng.choice(['f64', 'f32']), values)
INTS = {'i16': (-32768, 32767), 'u16': (0, 65535), 'i32': (-2 ** 31, 2 ** 31 - 1), 'u8': (0, 255)}
for kind, (lo, hi) in INTS.items():
    case(kind, [])
    case(kind, [lo, hi])
    case(kind, [1, 2, 3])
    case(kind, list(range(0, 1500)) if hi > 1500 else [i % 256 for i in range(1500)])
    for _ in range(10):
        case(kind, [rng.randint(lo, hi) for _ in range(rng.choice([1, 4, 12]))])
