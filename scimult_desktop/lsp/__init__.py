"""`scimult lsp`: a language server for citation keys in LaTeX, Markdown/Quarto and plain-text drafts.

A front end like the CLI: it calls only `scimult_desktop.services` (no Qt, no torch).
`cite_context` finds where keys are typed and cited (pure Python), `session` runs the
library work on worker threads, `features` builds LSP answers, `server` wires pygls.
"""
