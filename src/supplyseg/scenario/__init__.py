"""Policy management: S&OP scenarios, approval of policy versions, planner overrides and
monitoring with alerts.

Modules: `supplyseg.scenario.overlay` (``scenarios/<name>.yaml`` over the workspace),
`supplyseg.policy.adjust` (what a scenario and the overrides change in the policy inputs),
`supplyseg.scenario.compare` (the comparison table and page), `supplyseg.scenario.approval`
(draft -> approved -> published -> retired), `supplyseg.policy.overrides` (``overrides.csv``)
and `supplyseg.scenario.monitor` (alerts). Nothing is imported here: the pipeline imports the
adjustments, and the comparison imports the pipeline.
"""
