"""Builders and helpers the tests share; no test module imports from another."""
