"""The after-sale in GraphQL: its types, the list and count queries, the seller actions."""
