"""The use cases: one module per kind of command, each command one unit of work.

Every way in (GraphQL, webhooks, timers, the CLI) calls these; none writes a status by itself.
A command loads what it needs through `aftersales.store.uow`, asks `aftersales.domain` what
changes, and saves the change with its history entry, guarded by the after-sale's version.
"""
