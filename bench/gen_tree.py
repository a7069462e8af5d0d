#!/usr/bin/env python3
"""Generates the benchmark tree: half compressible text (log-like lines), half random bytes.

usage: gen_tree.py DIR TOTAL_MIB
"""
import os
import random
import sys

root, total_mib = sys.argv[1], int(sys.argv[2])
file_mib = 4
count = max(2, total_mib // file_mib)
rng = random.Random(42)
words = [b"order", b"cart", b"member", b"sku", b"shipped", b"paid", b"refund", b"tenant",
         b"startupwebapp_prod", b"healthtech_prod", b"fintech_prod", b"GET", b"POST", b"200"]
for i in range(count):
    sub = os.path.join(root, "text" if i % 2 == 0 else "random", f"d{i % 16:02d}")
    os.makedirs(sub, exist_ok=True)
    path = os.path.join(sub, f"f{i:05d}")
    size = file_mib << 20
    with open(path, "wb") as f:
        if i % 2 == 0:
            out = bytearray()
            while len(out) < size:
                n = rng.randrange(1 << 30)
                out += b"%d %s %s %d\n" % (n, rng.choice(words), rng.choice(words), n % 977)
            f.write(out[:size])
        else:
            f.write(os.urandom(size))
