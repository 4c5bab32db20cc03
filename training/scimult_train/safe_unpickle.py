"""Load torch checkpoints that contain pickled OmegaConf objects, without running their code.

The official SciMult checkpoints were saved by a Hydra/OmegaConf training script, so
`encoder_params` (and perhaps optimizer betas) are very likely OmegaConf objects, which
`torch.load(weights_only=True)` refuses. Instead of `weights_only=False` (which executes
arbitrary pickled globals), this module supplies a pickle module whose `find_class`
resolves only:
- the globals torch's own weights-only unpickler allows (tensor rebuilders, dtypes, ...);
- a few inert builtins and `typing` markers that OmegaConf metadata refers to;
- any `omegaconf.*` class, mapped to an inert stand-in that just records its state.
Anything else is refused with an error naming the file and the global.
"""

from __future__ import annotations

import _compat_pickle
import collections
import pickle
import types
import typing
from pathlib import Path

from scimult_desktop.errors import ModelError

_INERT_GLOBALS = {
    ("builtins", "dict"): dict,
    ("builtins", "list"): list,
    ("builtins", "tuple"): tuple,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "str"): str,
    ("builtins", "int"): int,
    ("builtins", "float"): float,
    ("builtins", "bool"): bool,
    ("builtins", "bytes"): bytes,
    ("builtins", "object"): object,
    ("builtins", "NoneType"): type(None),
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "defaultdict"): collections.defaultdict,
    ("typing", "Any"): typing.Any,
    ("typing", "Union"): typing.Union,
    ("typing", "Optional"): typing.Optional,
}
# Reconstructors that only ever call `cls.__new__` / build tuples of allowed things.
_STRUCTURAL = {("copyreg", "_reconstructor"), ("copyreg", "__newobj__")}


class OmegaConfStandIn:
    """Inert replacement for any pickled `omegaconf.*` object: keeps args and state, does nothing."""

    omegaconf_name = "omegaconf.?"

    def __init__(self, *args, **kwargs) -> None:
        self.args = args
        self.kwargs = kwargs
        self.state = None

    def __setstate__(self, state) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<stand-in for {self.omegaconf_name}>"


_stand_ins: dict[str, type] = {}


def _stand_in(module: str, name: str) -> type:
    full = f"{module}.{name}"
    if full not in _stand_ins:
        _stand_ins[full] = type(name, (OmegaConfStandIn,), {"omegaconf_name": full, "__module__": __name__})
    return _stand_ins[full]


def _torch_allowed_globals() -> dict:
    try:
        from torch import _weights_only_unpickler

        return dict(_weights_only_unpickler._get_allowed_globals())
    except Exception:  # private API; fall back to the tensor rebuilders we know about
        import torch._utils

        return {
            "torch._utils._rebuild_tensor_v2": torch._utils._rebuild_tensor_v2,
            "torch._utils._rebuild_parameter": torch._utils._rebuild_parameter,
        }


def make_restricted_pickle_module(where: str) -> types.ModuleType:
    """A pickle-module look-alike for `torch.load(pickle_module=...)` with an allow-list."""
    allowed = _torch_allowed_globals()

    class RestrictedUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            # Protocol-2 pickles (torch.save's default) spell builtins the Python 2 way.
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            if module == "omegaconf" or module.startswith("omegaconf."):
                return _stand_in(module, name)
            if (module, name) in _INERT_GLOBALS:
                return _INERT_GLOBALS[(module, name)]
            if (module, name) in _STRUCTURAL:
                return super().find_class(module, name)
            full = f"{module}.{name}"
            if full in allowed:
                return allowed[full]
            raise ModelError(
                f"{where}: refusing to load, the checkpoint references {full!r}, which is not on the "
                "allow-list of a SciMult/DPR checkpoint"
            )

    module = types.ModuleType("scimult_restricted_pickle")
    module.Unpickler = RestrictedUnpickler
    module.load = lambda file, **kw: RestrictedUnpickler(file, **kw).load()
    module.loads = pickle.loads  # unused by torch.load; present for completeness of the interface
    module.__name__ = "scimult_restricted_pickle"
    return module


def to_plain(value):
    """Turn stand-ins (OmegaConf DictConfig/ListConfig/nodes) into plain dicts, lists and scalars."""
    if isinstance(value, OmegaConfStandIn):
        state = value.state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}  # (dict_state, slot_state)
        if isinstance(state, dict):
            if "_content" in state:
                return to_plain(state["_content"])
            if "_val" in state:
                return to_plain(state["_val"])
            return {k: to_plain(v) for k, v in state.items() if not str(k).startswith("_")}
        if value.args:
            return to_plain(value.args[0])
        return None
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_plain(v) for v in value) if isinstance(value, list) else tuple(to_plain(v) for v in value)
    return value


def load_checkpoint(path: Path) -> dict:
    """torch.load a checkpoint safely: weights_only first, then the OmegaConf-tolerant allow-list.

    Raises:
        ModelError: not a torch checkpoint, or it needs globals outside the allow-list.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: checkpoint file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights_only" not in str(exc) and "global" not in str(exc).lower():
            raise ModelError(f"{path}: not a readable PyTorch checkpoint ({_first_line(exc)})") from exc
    except Exception as exc:  # torch raises RuntimeError/EOFError/zipfile errors on corrupt files
        raise ModelError(f"{path}: not a readable PyTorch checkpoint ({_first_line(exc)})") from exc
    try:
        return torch.load(path, map_location="cpu", weights_only=False, pickle_module=make_restricted_pickle_module(str(path)))
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{path}: not a readable PyTorch checkpoint ({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
