"""The scenario format as strict, frozen pydantic models.

This module is the single definition of what a scenario file may contain (over 600 lines on
purpose: one place to read the whole format, its docstrings the reference page). Unknown keys are
refused (``extra="forbid"``), every quantity is parsed from the format's conventions (money
suffixes, percentages, durations with units) and range-checked. The attribute docstrings are the
reference documentation: ``stockpile schema`` exports them as JSON Schema descriptions.

Units, as written in the file: money in euros; flows (demand, capacity, release, reserve,
domestic capacity) in units of the good **per year**; per-unit money per the good's ``unit``;
durations carry their unit and are held here in **years**; shares are fractions in [0, 1].

Why one module over 600 lines: the scenario language is one contract whose field docstrings are
generated into one reference page, and its models refer to each other (a good's levers, the
risk model's events, the limits by group); splitting it by block would scatter that reference.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from optimizer.scenario.units import (
    Spread,
    format_duration,
    format_rate,
    parse_duration_years,
    parse_money,
    parse_number,
    parse_rate_per_year,
    parse_share,
    spread_parser,
    spread_writer,
)

# --- quantity types ---------------------------------------------------------------------------


# The texts the parsers of units.py accept, for editors (JSON Schema patterns have no flags, so
# case is spelled out). A range that a pattern cannot say is checked by the loader.
def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


_UNIT_WORDS = f"({'|'.join(map(_any_case, ('day', 'week', 'month', 'quarter', 'year')))})[sS]?"
_NUMBER_TEXT = r"^\s*[-+]?[0-9][0-9_]*(\.[0-9]*)?([eE][-+]?[0-9]+)?\s*$"
_EUR = f"({_any_case('eur')}|€)"
_MONEY_TEXT = (
    rf"^\s*({_EUR}\s*)?\+?[0-9][0-9_,]*(\.[0-9]*)?([eE][-+]?[0-9]+)?\s*([kKmM]|[bB][nN]|[bB])?"
    rf"\s*{_EUR}?\s*$"
)
_SHARE_TEXT = (  # 0-100 % (alpha's < 100 % is the loader's), or a fraction written as text
    r"^\s*(0*(100(\.0*)?|[0-9]?[0-9](\.[0-9]*)?)\s*%"
    r"|[+]?[0-9][0-9_]*(\.[0-9]*)?([eE][-+]?[0-9]+)?)\s*$"
)
_DURATION_TEXT = rf"^\s*[0-9]+(\.[0-9]*)?\s*{_UNIT_WORDS}\s*$"


def _number_or_text(pattern: str, minimum: float | None = 0, maximum: float | None = None):
    number: dict = {"type": "number"}
    if minimum is not None:
        number["minimum"] = minimum
        if minimum >= 0:  # no minus sign in the text either
            pattern = pattern.replace(r"^\s*[-+]?", r"^\s*\+?", 1)
    if maximum is not None:
        number["maximum"] = maximum
    return WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": pattern}]})


Money = Annotated[float, BeforeValidator(parse_money), Field(ge=0), _number_or_text(_MONEY_TEXT)]
"""Euros, >= 0; ``2.5M``, ``750k``, ``1.2bn``, ``2.5e6`` accepted."""
Number = Annotated[float, BeforeValidator(parse_number), _number_or_text(_NUMBER_TEXT, None)]
Flow = Annotated[float, BeforeValidator(parse_number), Field(ge=0), _number_or_text(_NUMBER_TEXT)]
"""Units of the good per year, >= 0."""
Quantity = Annotated[
    float, BeforeValidator(parse_number), Field(ge=0), _number_or_text(_NUMBER_TEXT)
]
"""Units of the good, >= 0."""
Share = Annotated[
    float, BeforeValidator(parse_share), Field(ge=0, le=1), _number_or_text(_SHARE_TEXT, 0, 1)
]
"""A fraction in [0, 1]; ``65%`` accepted."""
Duration = Annotated[
    float,
    BeforeValidator(parse_duration_years),
    Field(ge=0),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _DURATION_TEXT}),
]
"""A duration with its unit (``18 months``), held in years."""
_RATE_TEXT = rf"^\s*[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?\s*([pP][eE][rR]|/)\s*{_UNIT_WORDS}\s*$"
Rate = Annotated[
    float,
    BeforeValidator(parse_rate_per_year),
    Field(ge=0),
    PlainSerializer(format_rate, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _RATE_TEXT}),
]
"""Events per year, written with its unit (``0.4 per year``, ``0.4/year``; ``per month`` is
converted)."""


def _spread_schema(value: dict) -> WithJsonSchema:
    """JSON Schema of the four written forms of a distribution of ``value``."""
    return WithJsonSchema(
        {
            "anyOf": [
                value,
                {
                    "type": "object",
                    "description": "uniform between min and max",
                    "properties": {"min": value, "max": value},
                    "required": ["min", "max"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "description": "triangular: min, most likely (mode), max",
                    "properties": {"min": value, "mode": value, "max": value},
                    "required": ["min", "mode", "max"],
                    "additionalProperties": False,
                },
                {
                    "type": "array",
                    "description": "discrete: [[value, weight], ...], weights >= 0",
                    "minItems": 1,
                    "items": {
                        "type": "array",
                        "prefixItems": [value, {"type": "number", "minimum": 0}],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
            ]
        }
    )


def _num_text(x: float) -> str:
    return f"{x:g}"


def _pct_text(x: float) -> str:
    return f"{x * 100:g}%"


ShareSpread = Annotated[
    Spread,
    BeforeValidator(spread_parser(parse_share, _pct_text, 0.0, 1.0, False, "share_spread", "50%")),
    PlainSerializer(spread_writer(float)),
    _spread_schema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {"type": "string", "pattern": _SHARE_TEXT},
            ]
        }
    ),
]
"""A share (``65%``) or a distribution of shares."""
DurationSpread = Annotated[
    Spread,
    BeforeValidator(
        spread_parser(
            parse_duration_years, format_duration, 0.0, None, False, "duration_spread", "6 months"
        )
    ),
    PlainSerializer(spread_writer(format_duration)),
    _spread_schema({"type": "string", "pattern": _DURATION_TEXT}),
]
"""A duration with its unit (``18 months``) or a distribution of durations; held in years."""
MultiplierSpread = Annotated[
    Spread,
    BeforeValidator(
        spread_parser(parse_number, lambda x: f"{x:g}", 0.0, None, True, "multiplier_spread", "1.5")
    ),
    PlainSerializer(spread_writer(float)),
    _spread_schema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": _NUMBER_TEXT},
            ]
        }
    ),
]
"""A multiplier above 0 (``1.5``) or a distribution of multipliers."""

Lever = Literal["stockpile", "reserve", "domestic", "demand_reduction"]
PeriodName = Literal["month", "quarter", "year", "week"]

PERIODS_PER_YEAR: dict[str, int] = {"month": 12, "quarter": 4, "year": 1, "week": 52}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# --- sections ---------------------------------------------------------------------------------


class Window(_Strict):
    """The planning window: how long costs are counted, and the length of one period."""

    years: Annotated[
        float, BeforeValidator(parse_number), Field(gt=0, le=100), _number_or_text(_NUMBER_TEXT, 0)
    ]
    """Length of the planning window in years; costs (storage, contract fees) are counted over
    it."""
    period: PeriodName = "month"
    """Length of one model period: month, quarter, year or week."""

    @property
    def periods_per_year(self) -> int:
        return PERIODS_PER_YEAR[self.period]

    @property
    def periods(self) -> int:
        """Number of periods T in the window (years x periods per year, rounded)."""
        return max(1, round(self.years * self.periods_per_year))


class BudgetLine(_Strict):
    """A budget line caps the first-stage cash of some levers and/or some goods."""

    limit: Money
    """Cash available to this line over the window, in euros."""
    levers: list[Lever] | None = None
    """Levers whose cash counts against the line (stockpile, reserve, domestic,
    demand_reduction); all levers when left out."""
    goods: list[str] | None = None
    """Goods whose cash counts against the line; all goods when left out."""


class Budget(_Strict):
    """First-stage cash limits: the total, and optional budget lines."""

    total: Money | None = None
    """Cash over the window for all levers and goods, in euros; no limit when left out."""
    lines: dict[str, BudgetLine] = {}
    """Named budget lines (a stockpile fund, an industrial-policy fund, ...)."""


class ConcentrationCap(_Strict):
    """A cap on one country's share of a good's no-disruption supply. Modelled on the EU
    Critical Raw Materials Act (Regulation (EU) 2024/1252, Art. 5), which sets a non-binding
    2030 benchmark, not a rule: no single third country should supply more than 65 % of the
    EU's annual consumption of a strategic raw material at any relevant stage of processing;
    here it is a hard constraint on the supply of the whole good."""

    share: Share
    """Largest share of a good's no-disruption supply (over the window) from one country."""
    countries: list[str] | None = None
    """Countries the cap applies to; every supplier country when left out."""


class CVaR(_Strict):
    """Conditional value at risk of the scenario loss (shortfall damage in euros)."""

    alpha: Annotated[
        float, BeforeValidator(parse_share), Field(ge=0, lt=1), _number_or_text(_SHARE_TEXT, 0, 1)
    ] = 0.95
    """Confidence level: CVaR is the expected loss in the worst (1 - alpha) of probability."""
    weight: Annotated[
        float, BeforeValidator(parse_number), Field(ge=0), _number_or_text(_NUMBER_TEXT)
    ] = 0.0
    """Weight of CVaR in the objective (euros of objective per euro of CVaR)."""
    limit: Money | None = None
    """Upper limit on CVaR in euros; none when left out."""


class Limit(_Strict):
    """A limit on the share of some countries in a good's no-disruption supply over the window
    (purchases plus domestic production): a cap (``max_share``) or a floor (``min_share``), hard
    or, with ``benchmark``, a penalty per unit over it."""

    max_share: Share | None = None
    """Largest share of a good's no-disruption supply from the listed countries (together, or
    each one with ``per_country``). Give this or ``min_share``."""
    min_share: Share | None = None
    """Smallest share of a good's no-disruption supply from the listed countries together;
    domestic production counts towards it (it is home supply). Give this or ``max_share``."""
    per_country: bool = False
    """``true``: the limit applies to each single country of ``countries`` separately (the
    CRMA's "no single third country"); ``false``: to their total."""
    countries: list[str] | Literal["all"] = "all"
    """Countries or groups the limit covers; ``all`` (the default) is every country."""
    exempt: list[str] = []
    """Countries or groups never counted as limited (the CRMA exempts EU members)."""
    goods: list[str] | None = None
    """Goods the limit applies to; every good when left out."""
    benchmark: Money | None = None
    """If set, the limit is not hard: every unit over it (over the window) costs this many
    euros in the no-disruption future (weighted by its probability in the objective, like the
    purchases it stands against) and is reported. A hard constraint when left out."""


class Risk(_Strict):
    """Risk limits and risk aversion."""

    concentration_cap: ConcentrationCap | None = None
    """Cap on the share of one country in a good's no-disruption supply (a shorthand for one
    hard ``per_country`` limit)."""
    limits: dict[str, Limit] = {}
    """Named limits on supply shares by country or group: caps, floors, benchmarks."""
    cvar: CVaR | None = None
    """CVaR of the scenario loss, as an objective term (weight) and/or a limit."""


Governance = Annotated[
    float,
    BeforeValidator(parse_number),
    Field(ge=0, le=10),
    _number_or_text(_NUMBER_TEXT, 0, 10),
]
"""A governance score from 0 (worst) to 10 (best)."""


def _one_or_list(value: object) -> object:
    """A single name written alone (``route: red_sea``) as the list of that one name."""
    return [value] if isinstance(value, str) else value


RouteNames = Annotated[
    list[str],
    BeforeValidator(_one_or_list),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]
"""Names of routes under ``routes:``: a list, or one name alone."""


class Route(_Strict):
    """A shipping route or chokepoint (Red Sea / Suez, Strait of Malacca, Taiwan Strait) that
    suppliers' goods pass. A hit or a risk-model event names it among its ``countries`` and
    cuts every supplier on it (docs/model.md, "Routes and shipping time")."""

    name: str | None = None
    """Readable name of the route (``Red Sea / Suez``)."""
    source: str | None = None
    """Where the route's figures come from (or ``assumption``)."""


class Country(_Strict):
    """A supplier country, named by its key (ISO code recommended)."""

    name: str | None = None
    """Readable name of the country."""
    groups: list[str] = []
    """Groups the country belongs to (``[EU]``, ``[G7, NATO]``); a group named here exists even
    if ``groups:`` at the top does not list it."""
    governance: Governance | None = None
    """Governance score, 0 (worst) to 10 (best): the World Bank's Worldwide Governance
    Indicators rescaled (cite the year in ``governance_source``). Weights the supply-risk
    index; countries without a score count as 5."""
    governance_source: str | None = None
    """Where the governance score comes from (``WGI 2023, mean of six indicators, rescaled
    -2.5..2.5 to 0..10``)."""
    route: RouteNames = []
    """Routes (names under ``routes:``; a list, or one name alone) that the goods of this
    country's suppliers pass, for every supplier that gives no ``route`` of its own."""
    shipping_time: Duration | None = None
    """Time the goods of this country's suppliers take to reach us, for every supplier that
    gives no ``shipping_time`` of its own; 0 when left out."""


class Stockpile(_Strict):
    """The strategic stockpile of one good: bought before, released only in a disruption."""

    initial: Quantity = 0.0
    """Stock already held at the window's start, in units."""
    max: Quantity | None = None
    """Largest stock (initial + bought) that can be held, in units; no limit when left out."""
    unit_cost: Money
    """Purchase price of one unit into the stock, in euros."""
    storage_cost: Money = 0.0
    """Storage cost per unit held per year, in euros."""
    residual_value: Share = 1.0
    """Share of the purchase price credited for each unit still in stock at the window's end."""
    max_release: Flow | None = None
    """Largest release rate in units per year; no limit when left out."""


class Domestic(_Strict):
    """Domestic capacity (reshoring, recycling): built before, producing after a lead time."""

    capex: Money
    """Investment per unit of yearly capacity, in euros."""
    fixed_cost: Money = 0.0
    """Fixed plant cost in euros, paid if any capacity is built (a yes/no decision)."""
    unit_cost: Money = 0.0
    """Production cost per unit, in euros."""
    max: Flow
    """Largest capacity that can be built, in units per year."""
    module: (
        Annotated[float, BeforeValidator(parse_number), Field(gt=0), _number_or_text(_NUMBER_TEXT)]
        | None
    ) = None
    """If set, capacity is built in whole modules of this size (units per year)."""
    lead_time: Duration = 0.0
    """Time from the window's start until the capacity produces."""
    lifetime: (
        Annotated[
            float,
            BeforeValidator(parse_duration_years),
            Field(gt=0),
            PlainSerializer(format_duration, return_type=str),
            WithJsonSchema({"type": "string", "pattern": _DURATION_TEXT}),
        ]
        | None
    ) = None
    """Economic life of the plant; only the share min(1, window / lifetime) of capex and fixed
    cost counts in the objective. The whole cost counts when left out."""


class DemandReduction(_Strict):
    """Demand measures (substitution, economising) usable in any period."""

    max_share: Share
    """Largest share of the period's demand that can be cut."""
    unit_cost: Money
    """Cost per unit of demand cut, in euros."""
    preparation_cost: Money = 0.0
    """Cost paid before the window to make the measure available (a yes/no decision)."""


class Reserve(_Strict):
    """Capacity reserved under contract with a supplier, deliverable even in the first periods of
    a disruption (unless the supplier's own country is disrupted)."""

    max: Flow
    """Largest capacity that can be reserved, in units per year."""
    fee: Money = 0.0
    """Fee per unit of reserved yearly capacity per year, in euros."""
    fixed_cost: Money = 0.0
    """Fixed cost of signing the contract, in euros (a yes/no decision)."""


class Supplier(_Strict):
    """A supplier of one good, located in one country."""

    country: str
    """Key of the supplier's country under ``countries``."""
    label: str | None = None
    """Name shown in reports and the terminal instead of the key (default: the key)."""
    unit_cost: Money
    """Price per unit in normal times, in euros."""
    capacity: Flow
    """Spot capacity available to us, in units per year."""
    spot_lead_time: Duration = 0.0
    """In the first part of a disruption of this good, the supplier delivers only its reserved
    capacity; its spot capacity returns after this lead time."""
    shipping_time: Duration | None = None
    """Time its goods take to reach us, such as ``6 weeks``; the country's ``shipping_time``
    when left out, else 0. In a disruption of this good, spot deliveries above the reserved
    capacity arrive only after ``spot_lead_time + shipping_time``: a far supplier ramps up
    later than a near one. As with ``spot_lead_time``, this holds back its whole non-reserved
    capacity then, normal flow included (docs/model.md)."""
    route: RouteNames | None = None
    """Routes (names under ``routes:``) its goods pass: a list such as ``[red_sea, malacca]``
    or one name alone; the country's ``route`` when left out; ``[]`` for none. A hit on a
    route cuts the supplier's whole flow by the hit's severity."""
    reserve: Reserve | None = None
    """Optional capacity reservation contract."""
    origin: dict[str, Share] = {}
    """Upstream origin of what the supplier sells, by country (``{CN: 80%}``: 80 % of it
    depends on Chinese material). A hit on an origin country cuts the supplier in proportion:
    it delivers at most ``capacity * (1 - severity(own country)) * (1 - sum of share *
    severity(origin country))``; a hit that names no goods also covers this supplier's good."""


class Good(_Strict):
    """A critical good: its demand, the damage of not getting it, and the levers for it."""

    unit: str = "unit"
    """Unit of the good (t, million doses, ...); per-unit money is per this unit."""
    label: str | None = None
    """Name shown in reports and the terminal instead of the key, e.g. ``NdPr oxide``
    (default: the key)."""
    demand: Flow
    """Normal demand, in units per year."""
    damage: Money
    """Damage per unit not supplied (value of lost supply), in euros."""
    coverage_days: (
        Annotated[float, BeforeValidator(parse_number), Field(ge=0), _number_or_text(_NUMBER_TEXT)]
        | None
    ) = None
    """Required initial stock, in days of normal demand."""
    max_shortfall: Share | None = None
    """Largest shortfall in any scenario, as a share of that scenario's demand over the
    window."""
    stockpile: Stockpile | None = None
    """The strategic stockpile lever."""
    domestic: Domestic | None = None
    """The domestic capacity lever."""
    demand_reduction: DemandReduction | None = None
    """The demand-measure lever."""
    suppliers: dict[str, Supplier] = {}
    """Foreign and domestic market suppliers, by name."""
    inputs: dict[str, Quantity] = {}
    """Bill of materials of domestic production: units of each input good (by name) consumed
    per unit produced at home, in the same period, from the input's own supply (purchases,
    stock, plant). A shortage of an input limits production."""


class Hit(_Strict):
    """One part of a disruption: some countries' supply of some goods is cut by a severity."""

    countries: list[str] = Field(min_length=1)
    """Countries (or groups, or routes) whose supply is cut: a route cuts every supplier
    whose goods pass it."""
    goods: list[str] | None = None
    """Goods affected; every good when left out."""
    severity: Share = 1.0
    """Share of the affected suppliers' capacity lost (1 = total cut)."""
    start: Duration | None = None
    """Start of this hit, from the window's start; the disruption's start when left out."""
    duration: Duration | None = None
    """Duration of this hit; the disruption's duration when left out."""


class Disruption(_Strict):
    """A disruption scenario: one or more hits, a probability, multipliers on prices and
    demand."""

    probability: Share
    """Probability over the window; the no-disruption scenario takes what is left."""
    start: Duration = 0.0
    """Start, from the window's start."""
    duration: Duration
    """How long the disruption lasts."""
    hits: list[Hit] = Field(min_length=1)
    """What it cuts."""
    price_multiplier: Annotated[
        float, BeforeValidator(parse_number), Field(gt=0), _number_or_text(_NUMBER_TEXT)
    ] = 1.0
    """Multiplier on the prices of the goods it hits, from every supplier, while it lasts."""
    demand_multiplier: Annotated[
        float, BeforeValidator(parse_number), Field(gt=0), _number_or_text(_NUMBER_TEXT)
    ] = 1.0
    """Multiplier on the demand for the goods it hits, while it lasts."""


class Event(_Strict):
    """A kind of disruption in a risk model: how often it comes, what it cuts, how hard and for
    how long. Several countries in one event make a common shock (they are hit together)."""

    rate: Rate | None = None
    """Arrivals per year (Poisson: several may occur in the window), such as ``0.4 per year``.
    Give either ``rate`` or ``probability``."""
    probability: Share | None = None
    """Chance that the event occurs (once) in the window, such as ``30%``. Give either ``rate``
    or ``probability``."""
    countries: list[str] = Field(min_length=1)
    """Countries (or groups, or routes) whose supply is cut, together."""
    goods: list[str] | None = None
    """Goods affected; every good with a supplier in these countries (or on these routes)
    when left out."""
    severity: ShareSpread = Spread.fixed(1.0)
    """Share of the affected suppliers' capacity lost (1 = total cut): a value or a
    distribution."""
    duration: DurationSpread
    """How long one occurrence lasts (``18 months``, or a distribution); rounded to whole
    periods, at least one."""
    start: DurationSpread | None = None
    """When an occurrence starts, from the window's start (a value or a distribution); uniform
    over the window when left out."""
    price_multiplier: MultiplierSpread = Spread.fixed(1.0)
    """Multiplier on the prices of the goods it hits, while it lasts: a value or a
    distribution."""
    demand_multiplier: MultiplierSpread = Spread.fixed(1.0)
    """Multiplier on the demand for the goods it hits, while it lasts: a value or a
    distribution."""

    @model_validator(mode="after")
    def _one_frequency(self) -> Event:
        if (self.rate is None) == (self.probability is None):
            found = "both" if self.rate is not None else "neither"
            raise ValueError(
                f"give exactly one of rate or probability, got {found}; hint: rate: 0.4 per "
                "year (several occurrences possible) or probability: 30% (at most one)"
            )
        return self


class RiskModel(_Strict):
    """Sampled disruptions: kinds of events with their frequency, reach, severity and duration;
    the engine draws ``samples`` futures from them (see docs/model.md, "Risk model")."""

    samples: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    """Number of futures drawn for the optimisation; identical ones are merged."""
    seed: Annotated[int, Field(ge=0)] = 1
    """Seed of the random draws: the same file and seed give the same futures on any machine."""
    events: dict[str, Event] = {}
    """Kinds of disruption, by name; each draws from its own random stream."""


class Scenario(_Strict):
    """A whole scenario file (after ``extends:`` and ``--set`` overrides are applied)."""

    name: str = "unnamed scenario"
    """Title of the scenario, shown in results."""
    description: str = ""
    """Free text: what the scenario assumes."""
    window: Window
    """The planning window."""
    budget: Budget = Budget()
    """Cash limits."""
    risk: Risk = Risk()
    """Risk limits and risk aversion."""
    groups: dict[str, list[str]] = {}
    """Named groups of countries (``friends: [EU, NO, JP]``); a member may be a country or
    another group. A group name stands wherever a list of countries stands (hits, risk-model
    events, limits, the concentration cap) and is replaced by its member countries when the
    file is loaded."""
    countries: dict[str, Country] = {}
    """Supplier countries, by key."""
    routes: dict[str, Route] = {}
    """Shipping routes and chokepoints, by name (``red_sea``, ``malacca``). A route name may
    stand in a hit's or a risk-model event's ``countries``: the hit cuts every supplier whose
    goods pass the route. A route name must differ from every country and group name."""
    goods: dict[str, Good] = Field(min_length=1)
    """The critical goods, by name."""
    disruptions: dict[str, Disruption] = {}
    """Disruption scenarios, by name (``no_disruption`` is added by the engine); ``null``
    clears those of a file this one extends."""
    risk_model: RiskModel | None = None
    """Sampled disruptions instead of hand-written ones: a file has either ``disruptions`` or
    ``risk_model``."""

    @field_validator("disruptions", mode="before")
    @classmethod
    def _no_disruptions(cls, value: object) -> object:
        """``disruptions: null`` clears the disruptions of a file this one extends."""
        return {} if value is None else value

    @model_serializer(mode="wrap")
    def _drop_absent_risk_model(self, handler: SerializerFunctionWrapHandler) -> dict:
        """Files without a risk model resolve exactly as before (no ``risk_model: null``)."""
        out = handler(self)
        if out.get("risk_model", 0) is None:
            del out["risk_model"]
        return out


def override_text(key: str, value: float) -> str:
    """A swept number as the text of a ``--set`` override of ``key``: ``repr`` of the float
    (reads back exactly), with ``per year`` added for a risk model's event rate, whose unit the
    format requires (a sweep's ``FROM:TO`` range is given in events per year)."""
    text = repr(float(value))
    return f"{text} per year" if is_rate_key(key) else text


def is_rate_key(key: str) -> bool:
    """Whether a dotted key is a risk model's event rate (``risk_model.events.X.rate``), a
    number written with its unit (``0.4 per year``)."""
    parts = key.split(".")
    return len(parts) == 4 and parts[:2] == ["risk_model", "events"] and parts[3] == "rate"
