"""GET /healthz and GET /readyz: the probes an orchestrator or a load balancer polls.

- /healthz: the process is up and its event loop answers. It never touches the database, so a
  database outage does not get healthy processes restarted.
- /readyz: this process can serve: the database answers and every migration shipped with the
  code is applied. 503 with a JSON body saying what is wrong otherwise, so traffic is held back
  from a replica whose database is down or not migrated yet. The driver's error text (host,
  port) goes to the log, not into the answer.

GET /health (the same as /healthz, kept for existing monitors) and GET /health/jobs (the timers,
scheduler/health.py) stay as they were.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aftersales.store.db import DatabaseUnavailable
from aftersales.store.readiness import Readiness
from aftersales.store.uow import reading

log = logging.getLogger(__name__)


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


# Problems that carry the driver's own words (host, port, user): answered without them.
DRIVER_PROBLEMS = ("cannot reach the database", "cannot read the applied migrations")


def public_problem(problem: str | None) -> str | None:
    """What /readyz may say about `problem` to whoever asks; the whole of it is in the log."""
    if problem is None:
        return None
    for generic in DRIVER_PROBLEMS:
        if problem.startswith(generic):
            return f"{generic} (the service's log has the details)"
    return problem


async def readyz(_: Request) -> Response:
    try:
        async with reading() as r:
            found = await r.readiness.check()
    except DatabaseUnavailable as exc:
        found = Readiness(f"cannot reach the database: {exc}", reachable=False)
    if not found.ready:
        log.warning("not ready: %s", found.problem)
    body = {
        "status": "ready" if found.ready else "not_ready",
        "problem": public_problem(found.problem),
        "database": "ok" if found.reachable else "unreachable",
        "migrations": {"applied": found.applied, "pending": found.pending},
    }
    return JSONResponse(body, status_code=200 if found.ready else 503)


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
