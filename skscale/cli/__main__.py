"""``python -m skscale.cli``: the ``skscale`` command."""

import sys

from . import main

sys.exit(main())
