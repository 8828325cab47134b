"""The OCI distribution client for one registry (`client`: manifests, digests, tags, blobs).
Reads only; `image_digest.lookup` builds on it."""
