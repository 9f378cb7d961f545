"""Report sections of scenario analyses (table and forest plot) and net budget impact."""

from __future__ import annotations

from cartsim.report import text
from cartsim.report.folder import Tables
from cartsim.report.page import Block, Page, Section
from cartsim.report.plots.scenarios import plot_budget_impact, plot_scenario_forest

SCENARIO_COLUMNS = (
    *("scenario", "comparison", "cost", "qaly", "delta_cost", "delta_cost_ci_low"),
    *("delta_cost_ci_high", "delta_qaly", "delta_qaly_ci_low", "delta_qaly_ci_high", "icer"),
    *("inmb", "inmb_ci_low", "inmb_ci_high"),
)


BUDGET_IMPACT_COLUMNS = (
    *("calendar_year", "arm", "reference", "spend", "reference_spend", "net_budget_impact"),
    *("net_budget_impact_ci_low", "net_budget_impact_ci_high"),
)


def scenario_sections(t: Tables, page: Page, currency: str) -> list[Section]:
    """Scenario analyses (table and forest plot) and net budget impact (table and bars), each
    only when the run folder has its table."""
    out = []
    table = t["scenarios"]
    if table is not None:
        shown_columns = [c for c in SCENARIO_COLUMNS if c in table]
        described = table.drop_duplicates("scenario")
        notes = "; ".join(f"{r.scenario}: {r.description}" for r in described.itertuples()
                          if "description" in table)  # fmt: skip
        blocks: list[Block] = [
            {
                "kind": "note",
                "text": f"Every analysis runs on the base case's patients (common "
                f"random numbers); costs in {currency}, discounted. {notes}",
            },  # fmt: skip
            {
                "kind": "incremental",
                "title": "Scenario analyses: each arm against the reference arm",
                "table": text.frame_table(table[shown_columns], currency),
            },
            page.figure(
                plot_scenario_forest(table, currency),
                "Incremental net monetary benefit per patient with 95% paired confidence "
                "intervals, by scenario analysis and comparison; diamond and dotted line: the "
                "base case; solid line: INMB = 0.",
            ),
        ]
        out.append(Section("scenarios", "Scenario analyses", blocks))
    impact = t["budget_impact"]
    if impact is not None:
        shown_columns = [c for c in BUDGET_IMPACT_COLUMNS if c in impact]
        blocks = [
            {
                "kind": "incremental",
                "title": f"Net budget impact against current practice ({currency}, "
                "undiscounted spend of the arm minus that of the reference arm, per year)",
                "table": text.frame_table(impact[shown_columns], currency),
            },
            page.figure(
                plot_budget_impact(impact, currency),
                f"Net budget impact per year ({currency}, undiscounted) with 95% paired "
                "confidence intervals over replications.",
            ),
        ]
        out.append(Section("budget-impact", "Net budget impact", blocks))
    return out
