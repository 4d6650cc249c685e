"""Persistence: the only package that imports Tortoise."""
