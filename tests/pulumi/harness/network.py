"""Addresses the tests use on purpose."""

#: A registry address nothing listens on (port 1 is never a registry): connection refused.
UNREACHABLE = "127.0.0.1:1"
