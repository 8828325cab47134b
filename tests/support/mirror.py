"""A real pull-through cache: Debian's docker-registry in proxy mode in front of another.

Distribution 2.8's proxy asks its upstream for a tag on every request while it can reach it,
and answers from its own copy when it cannot. So a stale mirror is one that lost its link to
the upstream: `PullThroughCache` proxies to a `replica` of the upstream (a second registry
process on the same storage, as replicas behind a load balancer share S3), and `cut()` stops
that replica. The upstream itself stays up for clients, so a push after `cut()` makes the
mirror stale while the upstream answers the new digest.
"""

from __future__ import annotations

from typing import Any

from tests.support.registry import RegistryServer


class Replica(RegistryServer):
    """Another registry process serving `primary`'s storage."""

    def __init__(self, primary: RegistryServer) -> None:
        super().__init__("plain")
        self.storage_dir = primary.storage_dir


class PullThroughCache(RegistryServer):
    """docker-registry with `proxy: remoteurl:` set to a replica of `upstream`."""

    def __init__(self, upstream: RegistryServer) -> None:
        super().__init__("plain")
        self.link = Replica(upstream)

    def config(self) -> dict[str, Any]:
        config = super().config()
        config["proxy"] = {"remoteurl": self.link.url}
        return config

    def start(self) -> PullThroughCache:
        self.link.start()
        super().start()
        return self

    def cut(self) -> None:
        """The mirror loses its upstream: it answers from what it cached."""
        self.link.stop()

    def close(self) -> None:
        super().close()
        self.link.close()
