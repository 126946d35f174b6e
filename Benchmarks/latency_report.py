#!/usr/bin/env python3
"""Helpers of Benchmarks/latency.sh: scrape Spool's /metrics, turn two scrapes into a table of
where requests' time went inside the broker, and turn the runs into a table and an SVG chart of
latency against throughput.

  latency_report.py scrape URL OUT             save a /metrics scrape
  latency_report.py breakdown BEFORE AFTER     phases of spool_request_phase_seconds between two scrapes
  latency_report.py chart RESULTS SVG          markdown table and chart of the runs in RESULTS (JSON lines)
"""
import json
import math
import sys
import urllib.request

PHASES = ["queue", "local", "wait", "response_queue", "send"]


def scrape(url, out):
    with urllib.request.urlopen(url, timeout=10) as answer, open(out, "w") as file:
        file.write(answer.read().decode())


def parse(path):
    """{(api, phase): {"buckets": [(le, cumulative)], "sum": s, "count": n}} of the phase series."""
    series = {}
    with open(path) as file:
        for line in file:
            if not line.startswith("spool_request_phase_seconds"):
                continue
            name, value = line.rsplit(" ", 1)
            labels = dict(part.split("=", 1) for part in name[name.index("{") + 1:name.rindex("}")].split(","))
            labels = {key: label.strip('"') for key, label in labels.items()}
            entry = series.setdefault((labels["api"], labels["phase"]), {"buckets": [], "sum": 0.0, "count": 0})
            if name.startswith("spool_request_phase_seconds_bucket"):
                bound = math.inf if labels["le"] == "+Inf" else float(labels["le"])
                entry["buckets"].append((bound, int(value)))
            elif name.startswith("spool_request_phase_seconds_sum"):
                entry["sum"] = float(value)
            elif name.startswith("spool_request_phase_seconds_count"):
                entry["count"] = int(value)
    return series


def quantile(buckets, count, q):
    """The upper bound of the bucket that holds quantile q (Prometheus-style, no interpolation)."""
    if count == 0:
        return None
    rank = max(1, math.ceil(q * count))
    for bound, cumulative in buckets:
        if cumulative >= rank:
            return bound
    return math.inf


def breakdown(before_path, after_path):
    before, after = parse(before_path), parse(after_path)
    rows = []
    for api in ["Produce", "Fetch"]:
        for phase in PHASES:
            now = after.get((api, phase))
            if not now:
                continue
            then = before.get((api, phase), {"buckets": [(b, 0) for b, _ in now["buckets"]], "sum": 0.0, "count": 0})
            count = now["count"] - then["count"]
            buckets = [(bound, c - p) for (bound, c), (_, p) in zip(now["buckets"], then["buckets"])]
            total = now["sum"] - then["sum"]
            rows.append((api, phase, count, total / count * 1e3 if count else 0.0,
                         quantile(buckets, count, 0.5), quantile(buckets, count, 0.99)))
    print("| request | phase | count | mean ms | p50 ≤ ms | p99 ≤ ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")

    def ms(bound):
        return "-" if bound is None else ("> 30000" if bound == math.inf else "%g" % (bound * 1e3))
    for api, phase, count, mean, p50, p99 in rows:
        print("| %s | %s | %d | %.3f | %s | %s |" % (api, phase, count, mean, ms(p50), ms(p99)))


def chart(results_path, svg_path):
    runs = [json.loads(line) for line in open(results_path) if line.strip()]
    print("| system | offered records/s | achieved records/s | p50 ms | p99 ms | p99.9 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for run in runs:
        print("| %s | %s | %s | %.2f | %.2f | %.2f |" % (
            run["system"], "{:,}".format(run["rate"]) if run["rate"] else "saturation", "{:,}".format(round(run["records_per_s"])),
            run["p50_ms"], run["p99_ms"], run.get("p999_ms", 0.0)))
    write_svg(runs, svg_path)


def write_svg(runs, path):
    """Latency (log) against achieved throughput (log): p50 solid, p99 dashed, one colour per system."""
    width, height, left, right, top, bottom = 720, 420, 70, 150, 30, 50
    colours = {"spool": "#1f6feb", "redis": "#d1242f"}
    points = [(max(1.0, r["records_per_s"]), max(0.01, r[key])) for r in runs for key in ("p50_ms", "p99_ms")]
    xs = [math.log10(x) for x, _ in points]
    ys = [math.log10(y) for _, y in points]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys))
    x1 = max(x1, x0 + 1)
    y1 = max(y1, y0 + 1)

    def sx(value):
        return left + (math.log10(value) - x0) / (x1 - x0) * (width - left - right)

    def sy(value):
        return height - bottom - (math.log10(value) - y0) / (y1 - y0) * (height - top - bottom)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>']
    for exponent in range(x0, x1 + 1):
        x = sx(10 ** exponent)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, top, x, height - bottom))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, height - bottom + 16, "{:,}".format(10 ** exponent)))
    for exponent in range(y0, y1 + 1):
        y = sy(10 ** exponent)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, y, width - right, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%g ms</text>' % (left - 6, y + 4, 10 ** exponent))
    out.append('<text x="%d" y="%d" text-anchor="middle">records/s achieved (end to end, fsync before ack)</text>'
               % ((left + width - right) / 2, height - 12))
    legend_y = top + 10
    for system in sorted({r["system"] for r in runs}):
        mine = sorted((r for r in runs if r["system"] == system), key=lambda r: r["records_per_s"])
        colour = colours.get(system, "#555")
        for key, dash, name in (("p50_ms", "", "p50"), ("p99_ms", ' stroke-dasharray="6 4"', "p99")):
            line = " ".join("%.1f,%.1f" % (sx(max(1.0, r["records_per_s"])), sy(max(0.01, r[key]))) for r in mine)
            out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (line, colour, dash))
            for r in mine:
                out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (sx(max(1.0, r["records_per_s"])), sy(max(0.01, r[key])), colour))
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'
                       % (width - right + 12, legend_y, width - right + 40, legend_y, colour, dash))
            out.append('<text x="%d" y="%d">%s %s</text>' % (width - right + 46, legend_y + 4, system, name))
            legend_y += 18
    out.append("</svg>")
    with open(path, "w") as file:
        file.write("\n".join(out) + "\n")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "scrape":
        scrape(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "breakdown":
        breakdown(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "chart":
        chart(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
