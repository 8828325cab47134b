"""The OCI distribution client for one registry (`client`: manifests, digests, tags, blobs)
and how a refusal is explained (`denied`). Reads only; `image_digest.lookup` builds on it."""
