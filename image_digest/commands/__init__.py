"""The `image-digest` subcommands, one module each; `image_digest.cli` wires them to argparse."""
