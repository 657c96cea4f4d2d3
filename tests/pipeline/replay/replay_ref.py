#!/usr/bin/env python3
"""Independent reference for `fks replay` (tests/test_replay.c runs it).

  replay_ref.py convert-kraken IN.json OUT.jsonl
      Kraken REST trades -> the JSON-lines trade recording of docs/replay.md.
      Times are read as exact decimals (never floats): ts = seconds * 10^9.

  replay_ref.py ma-cross RECORDING --fast F --slow S --qty Q --px-scale P
                --qty-scale K --fee-ppm N
      A moving-average crossover over the recording's trades with the simple
      fill rule (`--touch-from-trades`): each trade is the touch, with
      unlimited size, so every order fills in full at that trade's price.
      Prints one line per fill, "FILL ts side px qty fee" (integers at the
      instrument's scales, fee in cash units 10^-(P+K)), then
      "NET cash_units" and "FEES cash_units".

Written from the documented rules (docs/replay.md, strategies/ma_cross.h),
not from the C code: integers and Decimal only, pandas for loading.
"""
import json
import sys
from decimal import Decimal

import pandas as pd


def convert_kraken(src, dst):
    with open(src) as f:
        doc = json.load(f, parse_float=Decimal)
    (pair, rows), = [(k, v) for k, v in doc["result"].items() if k != "last"]
    with open(dst, "w") as out:
        for price, vol, t, side, *_ in rows:
            ns = Decimal(t) * 1000000000
            assert ns == ns.to_integral_value(), t
            out.write(json.dumps({"ts": int(ns), "price": price, "qty": vol,
                                  "side": {"b": "buy", "s": "sell"}[side]}) + "\n")


def scaled(text, scale):
    d = Decimal(text) * (Decimal(10) ** scale)
    assert d == d.to_integral_value(), text
    return int(d)


def ma_cross(path, fast, slow, qty, px_scale, qty_scale, fee_ppm):
    tape = pd.read_json(path, lines=True, dtype=False, convert_dates=False)
    qty_units = scaled(qty, qty_scale)
    samples = []
    prev = None
    position = 0
    cash = 0
    fees = 0
    last_px = 0
    for row in tape.itertuples(index=False):
        px = scaled(str(row.price), px_scale)
        last_px = px
        samples.append(2 * px)           # bid + ask of the locked touch
        if len(samples) < slow:
            continue
        f = sum(samples[-fast:])
        s = sum(samples[-slow:])
        cmp = (f * slow > s * fast) - (f * slow < s * fast)
        had, p = prev is not None, prev
        prev = cmp
        if not had:
            continue
        target = None
        if p <= 0 and cmp > 0:
            target = qty_units
        elif p >= 0 and cmp < 0:
            target = -qty_units
        if target is None or target == position:
            continue
        q = target - position
        notional = px * abs(q)
        fee = -(-(notional * fee_ppm) // 1000000)
        cash += -notional if q > 0 else notional
        fees += fee
        position = target
        print(f"FILL {int(row.ts)} {'buy' if q > 0 else 'sell'} {px} {abs(q)} {fee}")
    net = cash + position * last_px - fees
    print(f"NET {net}")
    print(f"FEES {fees}")


def main(argv):
    if len(argv) >= 3 and argv[0] == "convert-kraken":
        convert_kraken(argv[1], argv[2])
        return 0
    if argv and argv[0] == "ma-cross":
        opts = dict(zip(argv[2::2], argv[3::2]))
        ma_cross(argv[1], int(opts["--fast"]), int(opts["--slow"]), opts["--qty"],
                 int(opts["--px-scale"]), int(opts["--qty-scale"]), int(opts["--fee-ppm"]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
