"""HTTP to registries: one pooled session per registry, challenge-driven auth, bounded retries."""

from image_digest.transport.challenge import Challenge, parse_challenge
from image_digest.transport.deadline import Deadline
from image_digest.transport.http import RegistryTransport
from image_digest.transport.options import TransportOptions

__all__ = ["Challenge", "Deadline", "RegistryTransport", "TransportOptions", "parse_challenge"]
