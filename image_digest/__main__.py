"""`python -m image_digest` runs the CLI."""

import sys

from image_digest.cli import main

sys.exit(main())
