"""Timers: the APScheduler wiring, the jobs it runs, their CLI command and their health route.

The app factory (api.app) starts `service.running()` in its lifespan and mounts `health.routes()`;
the CLI (api.cli, `__init__.py`) adds the `sweep` command from `commands`.
"""
