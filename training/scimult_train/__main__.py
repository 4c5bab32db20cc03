"""`python -m scimult_train` (and `torchrun -m scimult_train`): run training (see train.py)."""

from __future__ import annotations

import sys

from scimult_train.train import main

if __name__ == "__main__":
    sys.exit(main())
