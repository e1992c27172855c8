#!/usr/bin/env python3
"""bench/report.py RESULTS: the table bench/run prints (medians over measured rounds, ratios, targets).

RESULTS holds one line per measurement, `server=S round=N mode=M label=L key=value ...`, as
bench/run writes them; round 0 is the warm-up and is left out.
"""
import statistics
import sys
from collections import defaultdict


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            if kv:
                rows.append(kv)
    return rows


def main():
    rows = load(sys.argv[1])
    vals = defaultdict(list)  # (label, server, key) -> [float]
    extra = {}  # (label, server) -> last row
    for r in rows:
        if r.get("round") == "0":
            continue
        for k, v in r.items():
            try:
                vals[(r["label"], r["server"], k)].append(float(v))
            except ValueError:
                pass
        extra[(r["label"], r["server"])] = r

    def med(label, server, key):
        v = vals.get((label, server, key))
        return statistics.median(v) if v else None

    def fmt(x, digits=1):
        if x is None:
            return "-"
        return f"{x:,.{digits}f}"

    def ratio(a, b):
        return a / b if a is not None and b else None

    lines = []
    head = f"{'scenario':<28}{'metric':<16}{'vidup':>12}{'@tus/server':>13}{'nginx 204':>12}{'vidup/nginx':>13}{'vidup/tus':>11}"
    lines.append(head)
    lines.append("-" * len(head))
    targets = []

    def row(scenario, metric, label, key, digits=1, nginx=True, lower_is_better=False):
        v, t = med(label, "vidup", key), med(label, "tus", key)
        n = med(label, "nginx", key) if nginx else None
        rn, rt = ratio(v, n), ratio(v, t)
        if lower_is_better:
            rn, rt = ratio(n, v), ratio(t, v)
        metric = metric + (" *" if lower_is_better else "")
        lines.append(
            f"{scenario:<28}{metric:<16}{fmt(v, digits):>12}{fmt(t, digits):>13}{fmt(n, digits):>12}"
            f"{(fmt(rn * 100, 0) + '%') if rn else '-':>13}{(fmt(rt, 1) + 'x') if rt else '-':>11}"
        )
        return v, t, n, rn, rt

    def target(name, ok, measured):
        if ok is None:
            targets.append(f"  n/a   {name}: not measured")
            return
        targets.append(f"  {'MET ' if ok else 'MISS'}  {name}: {measured}")

    if any(k[0] == "big_one" for k in vals):
        size = med("big_one", "vidup", "bytes") or med("big_one", "tus", "bytes") or 0
        size_text = f"{size / (1 << 30):g} GiB" if size >= (1 << 30) else f"{size / (1 << 20):g} MiB"
        v, t, n, rn, rt = row(f"big: {size_text}, one PATCH", "MB/s", "big_one", "mbps")
        row("", "CPU s/GiB", "big_one", "cpu_s_per_gib", 2, lower_is_better=True)
        target("big one PATCH >= 75% of nginx", rn >= 0.75 if rn else None, f"{fmt(rn * 100 if rn else None, 0)}%")
        target("big one PATCH >= 3x @tus/server", rt >= 3 if rt else None, f"{fmt(rt, 2)}x")
        v, t, n, rn, rt = row(f"big: {size_text}, 8 MiB PATCHes", "MB/s", "big_8m", "mbps")
        row("", "CPU s/GiB", "big_8m", "cpu_s_per_gib", 2, lower_is_better=True)
        target("big 8 MiB chunks >= 60% of nginx", rn >= 0.60 if rn else None, f"{fmt(rn * 100 if rn else None, 0)}%")
    if any(k[0] == "many" for k in vals):
        v, t, n, rn, rt = row("many: 64 KiB, 32 conns", "uploads/s", "many", "uploads_per_s", nginx=False)
        row("", "POST p50 ms", "many", "post_p50_ms", 2, nginx=False, lower_is_better=True)
        row("", "POST p99 ms", "many", "post_p99_ms", 2, nginx=False, lower_is_better=True)
        row("", "PATCH p50 ms", "many", "patch_p50_ms", 2, nginx=False, lower_is_better=True)
        row("", "PATCH p99 ms", "many", "patch_p99_ms", 2, nginx=False, lower_is_better=True)
        target("many >= 10x @tus/server", rt >= 10 if rt else None, f"{fmt(rt, 1)}x")
        p99 = max(x for x in (med("many", "vidup", "post_p99_ms"), med("many", "vidup", "patch_p99_ms")) if x is not None)
        target("many p99 < 20 ms (POST and PATCH)", p99 < 20, f"worst p99 {fmt(p99, 2)} ms")
    if any(k[0] == "head" for k in vals):
        v, t, n, rn, rt = row("head: 32 conns", "requests/s", "head", "requests_per_s")
        row("", "p99 ms", "head", "p99_ms", 2, lower_is_better=True)
        target("head >= 40% of nginx 204", rn >= 0.40 if rn else None, f"{fmt(rn * 100 if rn else None, 0)}%")
        target("head >= 20x @tus/server", rt >= 20 if rt else None, f"{fmt(rt, 1)}x")
    for label in ("idle", "idle_fit"):
        if not any(k[0] == label for k in vals):
            continue
        n_up = med(label, "vidup", "uploads") or med(label, "tus", "uploads")
        failed = [name for s, name in (("vidup", "vidup"), ("tus", "@tus/server"))
                  if extra.get((label, s), {}).get("failed") == "1"]
        row(f"idle: {fmt(n_up, 0)} x 64 KiB", "completed", label, "completed", 0, nginx=False)
        row("  half, stall 5 s, finish", "peak RSS MiB", label, "vmhwm_mib", 1, nginx=False, lower_is_better=True)
        row("", "RSS before MiB", label, "rss_before_mib", 1, nginx=False, lower_is_better=True)
        row("", "peak fds", label, "peak_fds", 0, nginx=False, lower_is_better=True)
        row("", "setup s", label, "setup_s", 2, nginx=False, lower_is_better=True)
        if failed:
            lines.append(f"{'':<28}FAILED (see the run's log): {', '.join(failed)}")
        if label == "idle":
            c, h = med(label, "vidup", "completed"), med(label, "vidup", "vmhwm_mib")
            if "vidup" in failed:
                target("idle 10,000 all complete, peak RSS < 256 MiB", False, "vidup's idle run failed")
            else:
                target(f"idle {fmt(n_up, 0)} all complete, peak RSS < 256 MiB",
                       (c == n_up and n_up >= 10000 and h < 256) if c is not None else None,
                       f"{fmt(c, 0)} of {fmt(n_up, 0)} completed, VmHWM {fmt(h, 1)} MiB, "
                       f"peak fds {fmt(med(label, 'vidup', 'peak_fds'), 0)}")
    if any(k[0] == "resume" for k in vals):
        for s, name in (("vidup", "vidup"), ("tus", "@tus/server")):
            r = extra.get(("resume", s))
            if r:
                title = f"resume: {int(r['size']) >> 20} MiB, {r['cuts']} cuts" if s == "vidup" else ""
                lines.append(f"{title:<28}{name:<16}identical={r['identical']}"
                             f" cuts at {r['cut_points']} ({r['retries']} retries, {r['seconds']} s)")
        r = extra.get(("resume", "vidup"))
        target("resume 256 MiB x 5 cuts byte-identical (vidup)", (r["identical"] == "yes") if r else None, "identical" if r else "")

    print("\n".join(lines))
    print("(rows marked * are lower-is-better: their ratio columns show peer/vidup, so > 1x or > 100% favours vidup)")
    print("\ntargets (ratios from the same run):")
    print("\n".join(targets))


if __name__ == "__main__":
    main()
