"""Warehouses, inventory and stock-in of returned items in GraphQL."""
