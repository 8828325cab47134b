"""Test infrastructure shared by the whole suite: real registries and deterministic images.

- ``images``: pure builders (``build_image``, ``build_index``, ``build_artifact``).
- ``push``: upload them through the registry HTTP API (anonymous, Basic or Bearer).
- ``registry``: ``RegistryServer``, docker-registry 2.8 on 127.0.0.1 in plain/basic/token mode.
- ``token_server``: ``TokenServer``, a Docker token-spec server for the token mode.

The fixtures built from these live in ``tests/conftest.py``; ``tests/test_support_selfcheck.py``
proves them against plain ``requests`` and ``skopeo``.
"""
