"""What an image is called, pure and without I/O: references, platforms, media types, mirror
routes, OCI provenance labels and the result type (`ResolvedImage`). Every other layer reads
these; they import nothing above `image_digest.errors`."""
