"""Telemetry off for every library the app loads, switched off in code before they load.

Measured with strace (benchmarks/bench_network_syscalls.py), what the libraries do unless told:

- ONNX Runtime (official builds, 1DS SDK) keeps a device id and an event queue in
  ~/.cache/Microsoft/DeveloperTools/.onnxruntime and, ~9 s after it loads, starts resolving
  mobile.events.data.microsoft.com to upload them. `ORT_DISABLE_TELEMETRY=1`, set before
  the library initialises, stops all of it for the process (onnxruntime's Privacy.md).
- OpenVINO: `import openvino` imports its model converter, which (when the
  openvino-telemetry package is installed, as pip does) writes a client id to ~/intel and
  sends an "import" event to www.google-analytics.com. That package has no environment
  switch; its only opt-out is a consent file in the user's home. Marking it absent in
  `sys.modules` instead makes OpenVINO fall back to its own built-in no-op stub, and
  nothing is written to the home folder.
- Hugging Face libraries (transformers, huggingface_hub), loaded only by the training
  tools: offline mode and no telemetry.

`disable_telemetry()` is idempotent and cheap; it is called by the CLI and GUI entry points
and again right before onnxruntime or openvino are imported (embedding/engines.py), so
library users of `OnnxEncoder` are covered too. Environment values are inherited by the
subprocesses the app starts (training tools, `scimult gui`).
"""

from __future__ import annotations

import os
import sys

# Values forced, not defaults: the app's promise is that nothing leaves the machine.
TELEMETRY_OFF_ENV = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}
# Imported by OpenVINO only to send usage events; a None entry makes `import` raise ImportError.
BLOCKED_MODULES = ("openvino_telemetry",)


def disable_telemetry() -> None:
    """Switch every known telemetry off for this process and its children (before the libraries load)."""
    os.environ.update(TELEMETRY_OFF_ENV)
    for name in BLOCKED_MODULES:
        # Left alone when already imported (by the embedding program, before us): too late to stop.
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
