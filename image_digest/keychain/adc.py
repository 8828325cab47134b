"""Whether Google Application Default Credentials are configured here, without asking the
network: `google.auth.default()` probes the GCE metadata server when it finds nothing else,
which costs seconds off Google Cloud (and blocks a public image for nothing).

ADC is consulted only when one of its sources is visibly present: the
GOOGLE_APPLICATION_CREDENTIALS variable, gcloud's well-known ADC file, or an environment that
says it runs on Google Cloud (a metadata server address, Cloud Run, Cloud Functions, App
Engine, or a Google machine per its DMI product name, which is what google-auth reads too).
NO_GCE_CHECK=true, google-auth's own switch, rules the metadata server out.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Set by Cloud Run services and jobs, Cloud Functions and App Engine, or naming a metadata
#: server explicitly (google-auth's GCE_METADATA_HOST / GCE_METADATA_ROOT / GCE_METADATA_IP).
GOOGLE_CLOUD_VARIABLES = (
    "GCE_METADATA_HOST",
    "GCE_METADATA_ROOT",
    "GCE_METADATA_IP",
    "K_SERVICE",
    "CLOUD_RUN_JOB",
    "FUNCTION_TARGET",
    "GAE_SERVICE",
)
#: Where Linux says which machine this is; "Google..." on Compute Engine and GKE nodes.
DMI_PRODUCT_NAME = Path("/sys/class/dmi/id/product_name")
_ADC_FILE = "application_default_credentials.json"


def adc_origin() -> str | None:
    """Which ADC source is present, in words for messages, or None when there is none."""
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        return f"GOOGLE_APPLICATION_CREDENTIALS {explicit}"
    well_known = gcloud_adc_file()
    if well_known.is_file():
        return f"gcloud ADC file {well_known}"
    if os.environ.get("NO_GCE_CHECK", "").lower() == "true":
        return None
    named = next((name for name in GOOGLE_CLOUD_VARIABLES if os.environ.get(name)), None)
    if named is not None:
        return f"the metadata server ({named} is set)"
    if _google_machine():
        return "the metadata server (a Google Compute Engine machine)"
    return None


def gcloud_adc_file() -> Path:
    """`gcloud auth application-default login`'s file, under CLOUDSDK_CONFIG if set."""
    configured = os.environ.get("CLOUDSDK_CONFIG")
    if configured:
        return Path(configured) / _ADC_FILE
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", "C:\\")) / "gcloud" / _ADC_FILE
    return Path.home() / ".config" / "gcloud" / _ADC_FILE


def _google_machine() -> bool:
    try:
        return DMI_PRODUCT_NAME.read_text(errors="replace").strip().startswith("Google")
    except OSError:
        return False
