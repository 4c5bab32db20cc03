"""Configuration of the task-aware encoder (architecture, experts, pooling, similarity).

Design choices:
- One dataclass describes every variant: vanilla BERT (`moe_type=None`), attention
  experts (`"mod2:attn"`, the released SciMult-MHAExpert), FFN experts (`"mod3:fwd"`),
  or both (`"mod2:attn:fwd"`).
- Routing is fixed by task: `task_experts` maps a `Task` value to an expert id; there is
  no learned gate, and one expert id serves a whole batch.
- `instructions` turns the vanilla model into the instruction variant: the prefix is
  prepended verbatim to every text of that task (query and document side alike).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scimult_desktop.domain.tasks import Task

# Layer rules of the reference code (TASER moe_models.py), as sets of 0-based layer
# indices for a given depth. Rules that are defined by a modulus scale with depth;
# the two fixed ones only make sense for 12 layers.
_MODULUS_RULES = {"mod2": 2, "mod3": 3, "mod4": 4, "mod6": 6, "mod12": 12}
_FIXED_RULES = {"ge6mod3": (5, 8, 11), "le7mod3": (0, 3, 6)}

# Official SciMult routing (eval_helper.EXPERT_CONFIG_TO_MAP['3-expert']).
OFFICIAL_TASK_EXPERTS = {Task.SEARCH.value: 0, Task.LINK.value: 1, Task.CLASSIFY.value: 2}

# UNVERIFIED recollection of the paper's instruction strings (spec §1.5): check against
# the paper before relying on them; they are only defaults of the instruction variant.
UNVERIFIED_INSTRUCTIONS = {
    Task.SEARCH.value: "Retrieve scientific papers that are relevant to the query.",
    Task.LINK.value: "Find a pair of papers that one paper cites the other.",
    Task.CLASSIFY.value: "Tag a scientific paper with relevant scientific topic classes.",
}


def moe_layer_indices(moe_type: str | None, num_layers: int) -> tuple[int, ...]:
    """0-based indices of the layers that carry experts under a layer rule.

    Args:
        moe_type: `"<rule>:<flags>"` such as `"mod2:attn"`, or None for no experts.
        num_layers: depth of the encoder.

    Returns:
        Sorted layer indices; empty for `None`.

    Raises:
        ValueError: unknown rule.
    """
    if not moe_type:
        return ()
    rule = moe_type.split(":", 1)[0]
    if rule in _MODULUS_RULES:
        step = _MODULUS_RULES[rule]
        return tuple(i for i in range(num_layers) if (i + 1) % step == 0)
    if rule in _FIXED_RULES:
        return tuple(i for i in _FIXED_RULES[rule] if i < num_layers)
    known = ", ".join([*_MODULUS_RULES, *_FIXED_RULES])
    raise ValueError(f"unknown MoE layer rule {rule!r} (expected one of: {known})")


def moe_flags(moe_type: str | None) -> set[str]:
    """The flag part of a moe_type (`{"attn"}`, `{"fwd"}`, ...)."""
    if not moe_type or ":" not in moe_type:
        return set()
    return {flag for flag in moe_type.split(":")[1:] if flag}


@dataclass
class EncoderConfig:
    """Everything needed to rebuild the encoder; dumped as JSON beside checkpoints and bundles."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    dropout: float = 0.1
    pad_token_id: int = 0
    num_experts: int = 1
    moe_type: str | None = None  # e.g. "mod2:attn"; None = vanilla BERT
    pooling: str = "cls"  # "cls" | "mean"
    similarity: str = "dot"  # "dot" | "cosine"
    max_length: int = 512
    task_experts: dict[str, int] = field(default_factory=lambda: dict(OFFICIAL_TASK_EXPERTS))
    instructions: dict[str, str] | None = None  # instruction variant: task -> prefix (verbatim)
    # "bert": absolute positions 0..n-1 and token type embeddings. "mpnet": positions counted from
    # pad_token_id + 1 (RoBERTa/fairseq style), no token types (type_vocab_size 0), and a relative
    # position bias (one bucket table, shared by every layer) added to the attention scores.
    family: str = "bert"
    relative_attention_num_buckets: int = 0  # 0 = no relative position bias (BERT)
    relative_attention_max_distance: int = 128

    def __post_init__(self) -> None:
        if self.pooling not in {"cls", "mean"}:
            raise ValueError(f"pooling must be 'cls' or 'mean', not {self.pooling!r}")
        if self.similarity not in {"dot", "cosine"}:
            raise ValueError(f"similarity must be 'dot' or 'cosine', not {self.similarity!r}")
        if self.hidden_size % self.num_heads:
            raise ValueError("hidden_size must be a multiple of num_heads")
        if self.family not in {"bert", "mpnet"}:
            raise ValueError(f"family must be 'bert' or 'mpnet', not {self.family!r}")
        if self.family == "mpnet" and self.relative_attention_num_buckets < 2:
            raise ValueError("an MPNet encoder needs relative_attention_num_buckets >= 2")
        flags = moe_flags(self.moe_type)
        if self.moe_type:
            moe_layer_indices(self.moe_type, self.num_layers)  # validates the rule
            if not flags & {"attn", "fwd"}:
                raise ValueError(f"moe_type {self.moe_type!r} names neither 'attn' nor 'fwd' experts")
            if "tok" in flags:
                raise ValueError("token-level routing ('tok') is not supported: routing is by task")
            if self.num_experts < 2:
                raise ValueError("an MoE encoder needs num_experts >= 2")
        elif self.num_experts != 1:
            raise ValueError("num_experts must be 1 when moe_type is None")
        for task, expert in self.task_experts.items():
            Task.parse(task)
            if not 0 <= expert < self.num_experts and self.moe_type:
                raise ValueError(f"task {task!r} routed to expert {expert}, but there are {self.num_experts}")

    @property
    def is_moe(self) -> bool:
        return bool(self.moe_type)

    @property
    def attention_experts(self) -> bool:
        return "attn" in moe_flags(self.moe_type)

    @property
    def ffn_experts(self) -> bool:
        return "fwd" in moe_flags(self.moe_type)

    @property
    def moe_layers(self) -> tuple[int, ...]:
        return moe_layer_indices(self.moe_type, self.num_layers)

    @property
    def architecture(self) -> str:
        """The bundle manifest's architecture name ("bert-moe-attn", "mpnet-vanilla", ...)."""
        if not self.is_moe:
            return f"{self.family}-vanilla"
        parts = [p for p, on in (("attn", self.attention_experts), ("ffn", self.ffn_experts)) if on]
        return f"{self.family}-moe-" + "-".join(parts)

    def expert_for(self, task: Task | str) -> int | None:
        """Expert id of a task, or None for the vanilla architecture."""
        if not self.is_moe:
            return None
        key = Task.parse(task).value
        return self.task_experts[key]

    def instruction_for(self, task: Task | str) -> str | None:
        if not self.instructions:
            return None
        return self.instructions.get(Task.parse(task).value)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "EncoderConfig":
        return cls(**data)

    def save(self, path: Path) -> Path:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, sort_keys=True), encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> "EncoderConfig":
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
