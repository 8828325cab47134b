"""Keep AWS credentials out of botocore's DEBUG lines once the ECR keychain loads boto3.

botocore logs its signed requests (`Authorization`, `X-Amz-Security-Token` headers), the
canonical request it signs (with the session token), and whole response bodies (an ECR
token, temporary credentials from STS or SSO). A filter on every botocore and boto3 logger
redacts those values, and the known secret key and session token wherever they appear, and
drops a line quoting an ECR `authorizationToken`. Logger filters apply to records logged on
that logger only, so each logger botocore has made gets one: before and after each ECR
client is made (making it imports the modules that sign and send).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

REDACTED = "[REDACTED]"
_PREFIXES = ("botocore", "boto3")
#: Header values (`'Authorization': b'...'`, `x-amz-security-token:...` in a canonical
#: request) and credential fields of JSON, XML or query answers.
_PATTERNS = (
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*b?['\"]?)[^'\"\r\n]+"),
    re.compile(r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s&,;}]+"),
    re.compile(
        r"(?i)([\"']?(?:aws_)?(?:secret_?access_?key|session_?token)[\"']?\s*[:=]\s*b?[\"']?)"
        r"[^\"'\s&,;}]+"
    ),
    re.compile(r"([\"']Token[\"']\s*:\s*[\"'])[^\"']+"),
    re.compile(r"(?i)(<(?:SecretAccessKey|SessionToken)>)[^<]*"),
)
_ECR_TOKEN_FIELD = "authorizationToken"
_ENVIRONMENT = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class CredentialFilter(logging.Filter):
    """Redacts AWS credentials from a record; drops one quoting an ECR token."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def know(self, *values: object) -> None:
        """Redact these values (secret keys, session tokens) wherever they appear."""
        with self._lock:
            self._secrets.update(v for v in values if isinstance(v, str) and len(v) >= 8)

    def redact(self, text: str) -> str:
        with self._lock:
            known = sorted(self._secrets, key=len, reverse=True)
        for secret in known:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(rf"\g<1>{REDACTED}", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not format: keep nothing of it
            return False
        if _ECR_TOKEN_FIELD in text:
            return False
        clean = self.redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


_FILTER = CredentialFilter()


def quiet_botocore(session: Any = None) -> None:
    """Put the filter on every botocore/boto3 logger there is, knowing the credentials of
    the environment and of `session` (a boto3 session whose client was made)."""
    _FILTER.know(*(os.environ.get(name) for name in _ENVIRONMENT))
    if session is not None:
        _FILTER.know(*_session_secrets(session))
    names = [name for name in list(logging.root.manager.loggerDict) if _ours(name)]
    for name in (*_PREFIXES, *names):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def _ours(name: str) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in _PREFIXES)


def _session_secrets(session: Any) -> tuple[object, ...]:
    """The secret key and session token the session resolved (no new lookup: a client was
    made, so the chain already ran)."""
    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except Exception:  # no credentials, or a provider that failed: nothing to know
        return ()
    return (getattr(frozen, "secret_key", None), getattr(frozen, "token", None))
