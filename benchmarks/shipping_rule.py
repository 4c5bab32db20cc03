"""The rule a trained default must pass to ship (issue 17), over one `eval_quality.py --compare` run.

(a) the mean change over all compared numbers is positive, and (b) no number drops by more than
2 paired standard errors (a 125-query benchmark moves by a point through noise alone, so "beat
the untrained model on every number" rejected models for noise). The recipe's own check, that no
task loses on label sets it never trained on, is in training/scimult_train/recipes/default_minilm.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

MAX_DROP_IN_SE = 2.0


def compared_rows(before: str, after: str, results: dict, compared: Iterable[tuple], per_query: str,
                  standard_error: Callable[[list, list], float]) -> list[tuple[str, float, float, float]]:
    """(label, before, after, paired SE) of every compared number both runs have."""
    rows = []
    for label, bench, (*path, metric) in compared:
        if bench not in results[before] or bench not in results[after]:
            continue
        old, new = results[before][bench], results[after][bench]
        for key in path:
            old, new = old.get(key, {}), new.get(key, {})
        if metric in old and metric in new:
            rows.append((label, old[metric], new[metric], standard_error(old.get(per_query, []), new.get(per_query, []))))
    return rows


def verdict(rows: list[tuple[str, float, float, float]]) -> tuple[bool, str]:
    """(passes, one line saying why) for the rows of one comparison."""
    if not rows:
        return False, "no compared numbers"
    mean_change = sum(new - old for _, old, new, _ in rows) / len(rows)
    drops = [f"{label} {new - old:+.1f} (SE {se:.1f})" for label, old, new, se in rows
             if new < old and (math.isnan(se) or old - new > MAX_DROP_IN_SE * se)]
    passes = mean_change > 0 and not drops
    why = f"mean change {mean_change:+.2f} over {len(rows)} numbers; " + (
        f"drops beyond {MAX_DROP_IN_SE:g} paired SE: {', '.join(drops)}" if drops else f"no drop beyond {MAX_DROP_IN_SE:g} paired SE")
    return passes, why


def shipping_verdict(before: str, after: str, results: dict, compared: Iterable[tuple], per_query: str,
                     standard_error: Callable[[list, list], float]) -> str:
    passes, why = verdict(compared_rows(before, after, results, compared, per_query, standard_error))
    return f"shipping rule (mean change > 0, no drop beyond {MAX_DROP_IN_SE:g} paired SE): {'pass' if passes else 'fail'} ({why})"
