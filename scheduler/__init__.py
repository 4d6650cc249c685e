"""Timers: the APScheduler wiring, the jobs it runs, their CLI command and their health route.

api.wiring plugs it in: `running()` in the app lifespan, `routes()` into the app, the `sweep`
command into the CLI.
"""
