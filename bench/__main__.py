"""`make bench`: run every benchmark module in turn; each prints its own table."""

from __future__ import annotations

import importlib
import sys

# Each module has `main(argv) -> int`. Add new benchmarks here.
BENCHMARKS = ["bench.graphql", "bench.webhooks", "bench.sweep"]


def main() -> int:
    only = sys.argv[1:]
    status = 0
    for name in BENCHMARKS:
        if only and name.split(".")[-1] not in only:
            continue
        print(f"\n### {name}\n", flush=True)
        status |= importlib.import_module(name).main([])
    return status


if __name__ == "__main__":
    sys.exit(main())
