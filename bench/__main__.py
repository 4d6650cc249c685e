"""`make bench`: the service measured over real HTTP against bare baselines, on PostgreSQL.

Each run creates a fresh database on the server of BENCH_POSTGRES_URL (the admin connection,
default postgres://postgres@127.0.0.1:5432/postgres) and drops it at the end. `aftersales serve`
(one uvicorn process, as in production) and the bare baselines (bench/bare_graphql.py,
bench/bare_webhook.py) run in their own processes on loopback ports; `wrk` drives them with
bench/lua/*.lua after a warm-up:

- the list: `afterSales(first: 50)` with scalars, money, `availableActions`, items and history,
  seller `bench` holding 10,000 after-sales; both sides must answer the very same JSON;
- TikTok webhooks: pre-signed new returns with two lines, each with its own
  tts_notification_id and return_id (a repeat would be a cheap duplicate);
- `workers_2_over_1`: the list against `aftersales serve --workers 2` over `--workers 1`;
- `list_scale_ratio`: the median first page filtered by shop, type and status (with
  totalCount), one request at a time, at BIG after-sales over the same at 10,000;
  `counts_1m_ms`: the median `afterSaleCounts` at BIG (rows bulk-loaded in SQL, not through
  the app);
- triage at BIG (bench/triage.py): `stats_1m_ms`, `urgent_queue_ms` (and over the default
  order), `export_rows_per_s` and `export_rss_growth_mb` of the CSV export of every row;
- statements per request, counted in-process (bench/statements.py);
- the dispute sweep at 100,000 expired rows against a bare UPDATE (bench/sweep.py).

Each throughput load (the list, webhooks) runs BENCH_RUNS times (default 3), service and bare
alternating: its figures are the median run's, its ratio the median of the runs' ratios with
their spread (`_min`, `_max`). BENCH_QUICK=1: 5-second runs and BIG = 100,000 instead of
1,000,000, to smoke-test the bench. BENCH_PORT=N confines the processes to ports N to N+9,
BENCH_DB_PREFIX the names of the databases it creates and drops (default `bench`).
The last line printed is one JSON object with every figure, the CPU model among them.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench import data, load, procs, statements, sweep, triage


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def same_json(service: dict[str, Any], bare: dict[str, Any], what: str) -> None:
    if service != bare:
        a = json.dumps(service, indent=1, sort_keys=True).splitlines()
        b = json.dumps(bare, indent=1, sort_keys=True).splitlines()
        diff = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
        where = "\n".join(f"service: {a[i]}\nbare:    {b[i]}" for i in [diff] if i is not None)
        raise SystemExit(f"error: the bare {what} answers other JSON than the service:\n{where}")


def bench_runs() -> int:
    """BENCH_RUNS (default 3): how many times each throughput load runs, service and bare
    alternating; the figures are the median run's, the ratios' spread is reported too."""
    raw = os.environ.get("BENCH_RUNS", "").strip() or "3"
    if not raw.isdigit() or not 1 <= int(raw) <= 20:
        raise SystemExit(f"error: BENCH_RUNS must be a whole number from 1 to 20, got {raw!r}")
    return int(raw)


def spread(name: str, ratios: list[float]) -> dict[str, float]:
    """`name`: the median of the runs' ratios; `name_min` / `name_max`: their spread."""
    return {
        name: round(statistics.median(ratios), 3),
        f"{name}_min": round(min(ratios), 3),
        f"{name}_max": round(max(ratios), 3),
    }


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    quick = os.environ.get("BENCH_QUICK", "").strip() not in ("", "0")
    seconds, warmup = (5.0, 2.0) if quick else (15.0, 5.0)
    small, big = 10_000, (100_000 if quick else 1_000_000)
    rounds = 30 if quick else 100
    runs = bench_runs()
    admin = os.environ.get("BENCH_POSTGRES_URL", "").strip() or data.ADMIN_URL
    load.wrk_path()
    out: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="aftersales-bench-"))
    database = asyncio.run(data.create(admin))
    url = database.url
    log(f"database {database.name}; work directory {work}")
    try:
        data.migrate(url)
        token = asyncio.run(data.seed_accounts(url))
        took = asyncio.run(data.load_after_sales(url, 1, small))
        log(f"loaded {small:,} after-sales in {took:.1f} s")

        page, filtered = work / "page.json", work / "filtered.json"
        page.write_bytes(load.page_body(50))
        filtered.write_bytes(load.page_body(50, filtered=True))
        # Enough bodies for 5,000 deliveries a second on each side: none is sent twice.
        wanted = [("statements", data.WEBHOOK_SHOP, 1)]
        for n in range(1, runs + 1):
            wanted += [
                (f"service-warm-{n}", data.WEBHOOK_SHOP, int(warmup * 5000)),
                (f"service-{n}", data.WEBHOOK_SHOP, int(seconds * 5000)),
                (f"bare-warm-{n}", data.BARE_WEBHOOK_SHOP, int(warmup * 5000)),
                (f"bare-{n}", data.BARE_WEBHOOK_SHOP, int(seconds * 5000)),
            ]
        bodies = {}
        for n, (name, shop, count) in enumerate(wanted, start=1):
            bodies[name] = work / f"webhooks-{name}.txt"
            load.webhook_bodies(bodies[name], count, shop=shop, prefix=10 + n)

        counted = asyncio.run(statements.per_request(url, token, bodies["statements"].read_text()))
        log(f"statements: {counted}")
        out["sql_per_list_request"] = counted["list_50"]
        out["sql_per_list_request_page_of_5"] = counted["list_5"]
        out["sql_per_webhook"] = counted["webhook"]

        with (
            procs.service(url, work) as service,
            procs.bare("bench.bare_graphql", url, work) as bare_graphql,
        ):
            for body, what in ((page, "page"), (filtered, "filtered page")):
                same_json(
                    load.post(service.url, token, body.read_bytes()),
                    load.post(bare_graphql.url, token, body.read_bytes()),
                    what,
                )
            log("list: the service and the bare endpoint answer the same JSON")
            s_runs, b_runs = [], []
            for n in range(1, runs + 1):  # alternated, so a slow spell of the machine hits both
                s_runs.append(load.list_load(service.url, token, page, seconds, warmup))
                b_runs.append(load.list_load(bare_graphql.url, token, page, seconds, warmup))
                log(
                    f"list run {n}/{runs}: service {s_runs[-1].per_s:.0f} req/s"
                    f" p99 {s_runs[-1].p99_ms:.1f} ms; bare {b_runs[-1].per_s:.0f} req/s"
                    f" p99 {b_runs[-1].p99_ms:.1f} ms"
                )
            s, b = load.median_run(s_runs), load.median_run(b_runs)
            ratios = [x.per_s / y.per_s for x, y in zip(s_runs, b_runs, strict=True)]
            out |= {
                "graphql_list_per_s": round(s.per_s, 1),
                "graphql_list_p50_ms": round(s.p50_ms, 2),
                "graphql_list_p99_ms": round(s.p99_ms, 2),
                "bare_list_per_s": round(b.per_s, 1),
                "bare_list_p99_ms": round(b.p99_ms, 2),
                **spread("graphql_list_ratio", ratios),
            }
            small_ms = load.latencies_ms(service.url, token, filtered.read_bytes(), rounds)
        with (
            procs.bare("bench.bare_webhook", url, work) as bare_hooks,
            procs.service(url, work) as service,
        ):
            s_runs, b_runs = [], []
            for n in range(1, runs + 1):
                b_runs.append(
                    load.webhook_load(
                        bare_hooks.url,
                        bodies[f"bare-warm-{n}"],
                        bodies[f"bare-{n}"],
                        seconds,
                        warmup,
                    )
                )
                s_runs.append(
                    load.webhook_load(
                        service.url,
                        bodies[f"service-warm-{n}"],
                        bodies[f"service-{n}"],
                        seconds,
                        warmup,
                    )
                )
                log(
                    f"webhooks run {n}/{runs}: service {s_runs[-1].per_s:.0f}/s"
                    f" p99 {s_runs[-1].p99_ms:.1f} ms; bare {b_runs[-1].per_s:.0f}/s"
                    f" p99 {b_runs[-1].p99_ms:.1f} ms"
                )
        s, b = load.median_run(s_runs), load.median_run(b_runs)
        out |= {
            "webhook_per_s": round(s.per_s, 1),
            "webhook_p50_ms": round(s.p50_ms, 2),
            "webhook_p99_ms": round(s.p99_ms, 2),
            "bare_webhook_per_s": round(b.per_s, 1),
            "bare_webhook_p99_ms": round(b.p99_ms, 2),
            **spread(
                "webhook_ratio", [x.per_s / y.per_s for x, y in zip(s_runs, b_runs, strict=True)]
            ),
        }

        with procs.service(url, work, workers=2) as service:
            w2 = load.list_load(service.url, token, page, seconds, warmup)
        out["graphql_list_per_s_workers_2"] = round(w2.per_s, 1)
        out["workers_2_over_1"] = round(w2.per_s / out["graphql_list_per_s"], 3)
        log(f"list with --workers 2: {w2.per_s:.0f} req/s")

        took = asyncio.run(data.load_after_sales(url, small + 1, big))
        log(f"loaded up to {big:,} after-sales in {took:.1f} s")
        took = asyncio.run(data.fold_counts(url))
        log(f"folded the per-status count rows the load added in {took:.1f} s")
        with procs.service(url, work) as service:
            big_ms = load.latencies_ms(service.url, token, filtered.read_bytes(), rounds)
            counts = orjson.dumps(
                {"query": load.COUNTS_QUERY, "variables": {"type": data.FILTER_TYPE}}
            )
            counts_ms = load.latencies_ms(service.url, token, counts, rounds)
            stats_ms = load.latencies_ms(service.url, token, triage.stats_body(), rounds)
            urgent_ms = load.latencies_ms(
                service.url, token, triage.queue_body("RESPONSE_DEADLINE"), rounds
            )
            newest_ms = load.latencies_ms(service.url, token, triage.queue_body("NEWEST"), rounds)
            per_s, growth, exported = triage.export(service.url, token, service.pid)
            log(f"export: {exported:,} rows at {per_s:,.0f} rows/s, RSS +{growth:.1f} MB")
        size = "1m" if big == 1_000_000 else f"{big // 1000}k"
        out |= {
            "list_first_page_ms_10k": round(load.median(small_ms), 2),
            f"list_first_page_ms_{big // 1000}k": round(load.median(big_ms), 2),
            "list_scale_ratio": round(load.median(big_ms) / load.median(small_ms), 3),
            "counts_1m_ms" if big == 1_000_000 else f"counts_{big // 1000}k_ms": round(
                load.median(counts_ms), 2
            ),
            f"stats_{size}_ms": round(load.median(stats_ms), 2),
            "urgent_queue_ms": round(load.median(urgent_ms), 2),
            "urgent_queue_over_default": round(load.median(urgent_ms) / load.median(newest_ms), 3),
            "export_rows_per_s": round(per_s, 1),
            "export_rss_growth_mb": round(growth, 1),
            "export_rows": exported,
        }
        out["rows"] = asyncio.run(data.count_rows(url))
    finally:
        asyncio.run(data.drop(database))
        shutil.rmtree(work, ignore_errors=True)

    log("dispute sweep, 100,000 expired rows ...")
    results = asyncio.run(sweep.run([100_000], [sweep.DEFAULT_BATCH_SIZE]))
    by = {r.method.split(" (")[0].split(",")[0]: r.seconds for r in results}
    swept = next(r.seconds for r in results if r.method.startswith("sweep"))
    out |= {
        "sweep_s_100k": round(swept, 2),
        "sweep_bare_update_s_100k": round(by["bare UPDATE"], 2),
        "sweep_bare_update_with_history_s_100k": round(by["bare UPDATE + history"], 2),
        "sweep_ratio": round(swept / by["bare UPDATE + history"], 3),
        "sweep_ratio_vs_update_without_history": round(swept / by["bare UPDATE"], 3),
    }
    out |= {
        "database": "PostgreSQL",
        "big": big,
        "quick": quick,
        "runs": runs,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "wrk": f"-t{load.THREADS} -c{load.CONNECTIONS} -d{seconds:.0f}s after {warmup:.0f}s",
    }
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
