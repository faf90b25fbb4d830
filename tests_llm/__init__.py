"""Tests against a real language model served on this machine (`make test-llm`); never part of `make test`."""
