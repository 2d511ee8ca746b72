"""The comparison table: each figure's p50 and p95 in every run, and the last run over the first."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.table import Table

from .runs import Run, percentile


@dataclass(frozen=True)
class Row:
    figure: str
    p50: list[float]  # one a run, in run order; NaN where a run lacks the figure
    p95: list[float]
    n: list[int]

    def p50_ratio(self, run: int = -1) -> float:
        """Run ``run``'s p50 over the first run's: below 1 it is faster."""
        return _ratio(self.p50[run], self.p50[0])

    def p95_ratio(self, run: int = -1) -> float:
        return _ratio(self.p95[run], self.p95[0])


def _ratio(new: float, old: float) -> float:
    if math.isnan(new) or math.isnan(old) or old == 0:
        return float("nan")
    return new / old


def comparison_rows(runs: list[Run]) -> list[Row]:
    """One row for each figure any run measured, in the order the runs first name them."""
    figures = [run.figures() for run in runs]
    names = list(dict.fromkeys(name for figure in figures for name in figure))
    rows = []
    for name in names:
        samples = [figure.get(name, []) for figure in figures]
        rows.append(
            Row(
                figure=name,
                p50=[percentile(values, 50) for values in samples],
                p95=[percentile(values, 95) for values in samples],
                n=[len(values) for values in samples],
            )
        )
    return rows


def comparison_table(runs: list[Run]) -> Table:
    """Each figure, one line a run: n, p50, p95, and for every run after the first its p50 and
    p95 over the first's (new/old: below 1.00 it is faster). One line a run, and both ratios in
    one cell, keep the table inside an 80-column terminal however many runs there are."""
    table = Table(title=f"voice latency: {runs[-1].label} vs {runs[0].label} (ms)")
    for column in ("measure", "run", "n", "p50", "p95", "new/old p50 · p95"):
        table.add_column(column, justify="left" if column in ("measure", "run") else "right")
    for row in comparison_rows(runs):
        for index, run in enumerate(runs):
            first = index == 0
            table.add_row(
                row.figure if first else "",
                run.label,
                str(row.n[index]),
                _ms(row.p50[index]),
                _ms(row.p95[index]),
                "" if first else f"{_times(row.p50_ratio(index))} · {_times(row.p95_ratio(index))}",
                end_section=index == len(runs) - 1,
            )
    return table


def _ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0f}"


def _times(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2f}"
