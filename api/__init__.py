"""The top: the app factory and the CLI (the composition roots), authentication, and the GraphQL
schema in feature folders (sales/, stock/, labels/, shops/), each with its types, queries and
mutations."""
