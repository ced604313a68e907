"""Sentences of a run's ``report.html`` that put the portfolio in words: what it saves against
doing nothing (``baseline`` of ``portfolio.json``) and goods short even with no disruption
(``normal_time_shortfall``). A mixin of the page class in ``report.py``, which holds ``pf``
(the ``portfolio.json`` dictionary) and ``money(*path)``."""

from __future__ import annotations

from html import escape

from optimizer.results.html import fmt_money, fmt_qty, num
from optimizer.results.routes import notable_route_shares


class _Findings:
    pf: dict
    res: dict

    def good_label(self, g: str) -> str:
        """The good's ``label:`` in the scenario, or its key."""
        return ((self.res.get("goods") or {}).get(g) or {}).get("label") or g

    def supplier_label(self, g: str, s: str) -> str:
        """The supplier's ``label:`` in the scenario, or its key."""
        good = (self.res.get("goods") or {}).get(g) or {}
        return ((good.get("suppliers") or {}).get(s) or {}).get("label") or s

    def _baseline_card(self) -> list[tuple]:
        """The summary card of the cost of doing nothing, when it was solved."""
        base = self.pf.get("baseline") or {}
        if base.get("objective") is None:
            return []
        path = ["baseline", "objective"]
        return [("Expected total cost of doing nothing", base["objective"], path)]

    def money(self, *path: str) -> str:  # pragma: no cover - the page class's
        raise NotImplementedError

    def _baseline_sentence(self) -> str:
        """What the portfolio saves against doing nothing (the same futures, no lever)."""
        base = self.pf.get("baseline") or {}
        if base.get("objective") is None:
            reason = base.get("reason")
            if not reason:
                return ""
            return f'<p id="baseline">No comparison with doing nothing: {escape(reason)}.</p>'
        saving = base.get("saving")
        verb = "saves" if saving is None or saving >= 0 else "costs, on expectation, an extra"
        return (
            '<p id="baseline">Against doing nothing (the same futures with no stock bought, '
            "no capacity reserved, no plant built and no demand measure prepared), whose "
            f"expected total cost is {self.money('baseline', 'objective')} "
            f"(expected shortfall damage {self.money('baseline', 'expected_loss')}), the "
            f"portfolio {verb} "
            f"{num(fmt_money(abs(saving or 0.0)), ['baseline', 'saving'], saving)} "
            "over the window.</p>"
        )

    def _route_sentence(self) -> str:
        """Each good's share of normal supply through each shipping route (``route_shares``),
        in one sentence; nothing without routes."""
        names = self.res.get("routes") or {}
        parts = []
        for g, r, share in notable_route_shares(self.pf):
            route = (names.get(r) or {}).get("name") or r
            fig = num(f"{share:.0%}", ["goods", g, "route_shares", r], share)
            parts.append(f"{escape(self.good_label(g))} {fig} through {escape(route)}")
        if not parts:
            return ""
        return (
            '<p id="routes">Normal supply (no disruption) through shipping routes: '
            + "; ".join(parts)
            + ". A disruption that closes a route cuts every supplier on it.</p>"
        )

    def _normal_shortfall(self) -> str:
        """Goods short even with no disruption: said in words, not left to a table cell."""
        items = []
        for i, e in enumerate(self.pf.get("normal_time_shortfall") or []):
            path = ["normal_time_shortfall", str(i)]
            qty = num(fmt_qty(e["shortfall"], e["unit"]), [*path, "shortfall"], e["shortfall"])
            dmg = num(fmt_money(e["damage"]), [*path, "damage"], e["damage"])
            cause = (
                "a limit of the scenario (capacities, the concentration cap) leaves demand unmet"
            )
            if e.get("capped_countries"):
                share = e.get("cap_share")
                cap = f"the {share:.0%} concentration cap" if share is not None else "the cap"
                cause = (
                    f"{cap} on {', '.join(e['capped_countries'])} binds and no other supply "
                    "replaces what it holds back"
                )
            items.append(
                f"<li>Even with no disruption, {escape(e['good'])} is short {qty} over the "
                f"window ({dmg} of damage): {escape(cause)}.</li>"
            )
        if not items:
            return ""
        return (
            '<div class="alert" id="normal-shortfall"><strong>Short in normal times.</strong>'
            "<ul>" + "".join(items) + "</ul></div>"
        )
