"""``python -m forecast`` runs the CLI."""

import sys

from forecast.cli import main

sys.exit(main())
