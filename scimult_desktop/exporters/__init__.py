"""Writers that turn library papers into exchange formats (BibTeX, CSL-JSON). Pure text, no I/O."""

from __future__ import annotations
