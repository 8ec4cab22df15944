"""Parity with the real frameworks: specs, golden files (tools/make_golden.py), the live suite."""
