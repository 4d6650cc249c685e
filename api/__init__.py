"""The server: GraphQL schema, the Starlette app factory and the CLI (the composition root)."""
