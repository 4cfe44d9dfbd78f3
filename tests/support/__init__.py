"""Helpers shared by the tests: plain functions and classes, no fixtures (those live in
the conftest.py files) and no tests."""
