"""GMI-1 as Ibis expressions: snapshots -> post facts -> monthly features -> raw dimensions -> scores.

Pure functions of Ibis tables, so that the same expression runs on DuckDB and on Spark.
Stored timestamps are naive UTC; months are taken after adding the methodology's UTC offset
(8 h), which gives the same answer on both backends (their sessions are pinned to UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from govmedia.core.vocabulary import METRICS, PLATFORMS
from govmedia.core.time import UTC_OFFSET_HOURS
from govmedia.methodology import COMPUTED_DIMENSIONS, Methodology


@dataclass
class Tables:
    """The store's tables as Ibis tables, on whichever backend."""

    accounts: ir.Table
    posts: ir.Table
    snapshots: ir.Table
    cases: ir.Table
    case_accounts: ir.Table
    campaigns: ir.Table
    campaign_hashtags: ir.Table
    campaign_participations: ir.Table
    months: ir.Table  # one column `month` ('YYYY-MM'), the months to score


def local_time(ts: ir.TimestampValue, m: Methodology) -> ir.TimestampValue:
    return ts + ibis.interval(hours=UTC_OFFSET_HOURS)


# Sort-key offsets: |age| stays far below 2**61 µs (73,000 years), so in-window keys are
# negative, late ones positive, and the undated snapshot's 0 sits between them.
_KEY_OFFSET = 2**61


def _min_by(arg: ir.Value, key: ir.IntegerValue) -> ir.Value:
    """`min_by(arg, key)`, a builtin of both DuckDB (alias of arg_min) and Spark.

    Ibis compiles `argmin` on DuckDB to `first(arg ORDER BY key)`, an ordered aggregate that
    buffers and sorts every group's rows; at ten million posts it is slower and needs more
    memory than the plain aggregate.
    """
    dtype = arg.type()
    fn = ibis.udf.agg.builtin(lambda arg, key: None, name="min_by", signature=((dtype, dt.int64), dtype))
    return fn(arg, key)


def chosen_snapshots(snapshots: ir.Table, m: Methodology, metrics: tuple[str, ...] = METRICS,
                     posts: ir.Table | None = None) -> ir.Table:
    """Per post, the snapshot that counts: the latest dated one observed within the window
    after publication; else the undated one; else the earliest dated one.

    One hash aggregate (min_by over an integer sort key) over the snapshots alone: their stored
    age (µs since publication, NULL when undated) is all the key needs, so no join with the
    posts comes first. Keys: in-window −2⁶¹ − age (latest first), undated 0, later ones
    2⁶¹ + age (earliest first); exact integers, unique per post (one snapshot per observation time).
    Only `metrics` are carried: the aggregate's memory grows with them. With `posts`, only
    their snapshots are aggregated (a semi-join first): worth it when they are a small part of
    all posts, e.g. one month of many; when they are (nearly) all, it only costs time.
    """
    s = snapshots
    if posts is not None:
        s = s.semi_join(posts.select("platform", "post_id"), ["platform", "post_id"])
    age = s.age_us
    window_us = m.window_us
    key = ibis.cases(
        (age.isnull(), ibis.literal(0, type="int64")),
        (age <= window_us, -_KEY_OFFSET - age),
        else_=_KEY_OFFSET + age,
    )
    # One min_by per metric rather than one of a struct of them: the same row (keys are unique
    # per post), but fixed-size aggregate states; at ten million posts under the 2 GB bound it
    # is ~20 % faster. A missing metric counts as 0, so it is 0 before the choice.
    return s.group_by(["platform", "post_id"]).aggregate(
        **{name: _min_by(s[name].fill_null(0), key) for name in metrics}
    )


def _has_any(forms: ir.ArrayValue, wanted: tuple[str, ...]) -> ir.BooleanValue:
    if not wanted:
        return ibis.literal(False)
    condition = forms.contains(wanted[0])
    for form in wanted[1:]:
        condition = condition | forms.contains(form)
    return condition


def post_facts(posts: ir.Table, snapshots: ir.Table, months: ir.Table, m: Methodology, *, wide: bool = True,
               metrics: tuple[str, ...] = METRICS, every_post: bool = False) -> ir.Table:
    """One row per post of the scored months: month, originality, innovation and the counted metrics.

    `wide` keeps text and position (for indices and reports); the scores do without them, and
    need only some `metrics`. Originality and innovation are computed before the join, so that
    the join's build side holds two booleans rather than the forms. `every_post` says that the
    months hold (nearly) every stored post, so filtering the snapshots first would not pay (see
    chosen_snapshots); the result is the same either way.
    """
    original = posts.is_original.fill_null(m.unknown_counts_as_original)
    forms = posts.forms.fill_null(ibis.literal([], type="array<string>"))
    innovative = ibis.cases(
        *[(posts.platform == platform, _has_any(forms, m.innovative_forms_for(platform))) for platform in PLATFORMS],
        else_=_has_any(forms, m.innovative_forms),
    )
    p = posts.select(
        "platform", "post_id", "account_id", "published_at", *(["text", "position"] if wide else []),
        month=local_time(posts.published_at, m).strftime("%Y-%m"),
        original=original,
        innovative=original & innovative,
    )
    p = p.filter(p.month.isin(months.month))
    chosen = chosen_snapshots(snapshots, m, metrics, None if every_post else p)
    joined = p.left_join(chosen, ["platform", "post_id"])
    return joined.select(
        "platform", "account_id", "post_id", "month", "published_at", *(["text", "position"] if wide else []),
        "original", "innovative",
        **{name: joined[name].fill_null(0).cast("int64") for name in metrics},
    )


def _needed_sums(m: Methodology, platform: str | None = None) -> set[str]:
    needed = set()
    features = m.features() if platform is None else {
        f for terms in m.dimensions[platform].values() for t in terms for f, _ in t.of}
    for feature in features:
        if feature.startswith("avg_o_"):
            needed.add("sum_o_" + feature[6:])
        elif feature.startswith("avg_"):
            needed.add("sum_" + feature[4:])
        elif feature.startswith("sum_"):
            needed.add(feature)
    return needed


def _needed_metrics(m: Methodology, platform: str | None = None) -> tuple[str, ...]:
    """The metrics GMI's features read (on `platform`, else anywhere), in METRICS order (at least
    one: an aggregate needs one, and a methodology of post counts alone would read none)."""
    used = {name.split("_", 2)[-1] if name.startswith(("sum_o_", "sum_i_")) else name[4:]
            for name in _needed_sums(m, platform)}
    return tuple(name for name in METRICS if name in used) or METRICS[:1]


def monthly_features(facts: ir.Table, m: Methodology) -> ir.Table:
    """Per (platform, account, month): n, n_o, n_i and the sums the methodology uses."""
    # Filtered aggregates (FILTER (WHERE …) on DuckDB) rather than sums of CASE expressions:
    # fewer computed columns per post. An empty filter sums to NULL, hence the fill.
    zero = ibis.literal(0, type="int64")
    aggregates = {
        "n": facts.count(),
        "n_o": facts.count(where=facts.original),
        "n_i": facts.count(where=facts.innovative),
    }
    for name in sorted(_needed_sums(m)):
        if name.startswith("sum_o_"):
            aggregates[name] = facts[name[6:]].sum(where=facts.original).fill_null(zero)
        elif name.startswith("sum_i_"):
            aggregates[name] = facts[name[6:]].sum(where=facts.innovative).fill_null(zero)
        else:
            aggregates[name] = facts[name[4:]].sum()
    return facts.group_by(["platform", "account_id", "month"]).aggregate(**aggregates)


def tagged_posts(posts: ir.Table, months: ir.Table, m: Methodology) -> ir.Table:
    """Posts of the scored months whose text has a '#': the only ones that can join a campaign."""
    tagged = posts.filter(posts.text.contains("#"))
    tagged = tagged.select("platform", "account_id", "published_at", "text",
                           month=local_time(tagged.published_at, m).strftime("%Y-%m"))
    return tagged.filter(tagged.month.isin(months.month))


def influence_points(t: Tables, facts: ir.Table, m: Methodology) -> ir.Table:
    """Per (platform, account, month): case points + campaign points × distinct campaigns joined.

    `facts` are posts with platform, account_id, month, published_at and text (tagged_posts).
    """
    cases = t.cases.filter(t.cases.month.isin(t.months.month))
    credited = cases.join(t.case_accounts, "case_id").select(
        platform=t.case_accounts.platform, account_id=t.case_accounts.account_id, month=cases.month,
        case_points=cases.score * m.case_points_factor,
    )
    case_points = credited.group_by(["platform", "account_id", "month"]).aggregate(
        case_points=credited.case_points.sum()
    )

    # A post takes part in a campaign when published inside [start, end] (local dates) and
    # its text contains one of the campaign's hashtags as "#tag#".
    local_date = local_time(facts.published_at, m).date()
    tagged = facts.filter(facts.text.contains("#")).mutate(local_date=local_date)
    window = tagged.join(
        t.campaigns, [tagged.local_date >= t.campaigns.start_date, tagged.local_date <= t.campaigns.end_date]
    )
    with_tags = window.join(t.campaign_hashtags, "campaign_id")
    matched = with_tags.filter(with_tags.text.contains("#" + with_tags.hashtag + "#"))
    # Casts make both sides' schemas equal (NOT NULL columns on one side only).
    key_types = {"campaign_id": "string", "platform": "string", "account_id": "string", "month": "string"}
    by_hashtag = matched.select(**{k: matched[k].cast(v) for k, v in key_types.items()})
    participations = t.campaign_participations.filter(t.campaign_participations.month.isin(t.months.month))
    explicit = participations.select(**{k: participations[k].cast(v) for k, v in key_types.items()})
    joined = by_hashtag.union(explicit, distinct=True)
    campaigns = joined.group_by(["platform", "account_id", "month"]).aggregate(
        campaigns=joined.campaign_id.nunique()
    )
    keys = ["platform", "account_id", "month"]
    both = case_points.outer_join(campaigns, keys)
    return both.select(
        platform=ibis.coalesce(both.platform, both.platform_right),
        account_id=ibis.coalesce(both.account_id, both.account_id_right),
        month=ibis.coalesce(both.month, both.month_right),
        case_points=both.case_points.fill_null(0.0),
        campaigns=both.campaigns.fill_null(0).cast("int64"),
    )


def _feature(grid: ir.Table, name: str) -> ir.FloatingValue:
    if name.startswith("avg_o_"):
        return ibis.ifelse(grid.n_o > 0, grid["sum_o_" + name[6:]] / grid.n_o, 0.0)
    if name.startswith("avg_"):
        return ibis.ifelse(grid.n > 0, grid["sum_" + name[4:]] / grid.n, 0.0)
    return grid[name].cast("float64")


def raw_dimension(grid: ir.Table, m: Methodology, dimension: str, platforms: tuple[str, ...] = PLATFORMS
                  ) -> ir.FloatingValue:
    per_platform = []
    for platform in platforms:
        total = ibis.literal(0.0)
        for term in m.dimensions[platform][dimension]:
            inner = ibis.literal(0.0)
            for feature, coefficient in term.of:
                inner = inner + coefficient * _feature(grid, feature)
            total = total + term.weight * (inner + 1.0).ln()
        per_platform.append((grid.platform == platform, total))
    return ibis.cases(*per_platform, else_=ibis.literal(0.0))


FEATURE_COLUMNS_OUT = ("n", "n_o", "n_i")


def scored_facts(t: Tables, m: Methodology, *, every_post: bool = False, platform: str | None = None) -> ir.Table:
    """The post facts the scores are computed from (of `platform` only, when given): under
    [anomalies] discount, with flagged posts' inflated metrics replaced (scoring.anomalies)."""
    metrics = _needed_metrics(m, platform)
    facts = post_facts(t.posts, t.snapshots, t.months, m, wide=False, metrics=metrics, every_post=every_post)
    if m.discount:
        from govmedia.scoring.anomalies import discounted, post_flags

        flags = post_flags(t.posts, t.snapshots, m)
        if flags is not None:
            facts = discounted(facts, flags, m, metrics)
    return facts


def monthly_scores(t: Tables, m: Methodology, *, every_post: bool = False) -> ir.Table:
    """Every registered account × every scored month, with raw values, scores and the total.

    `every_post`: the months hold (nearly) every stored post (see post_facts); the result is the same.
    """
    facts = scored_facts(t, m, every_post=every_post)
    features = monthly_features(facts, m)
    influence = influence_points(t, tagged_posts(t.posts, t.months, m), m)

    grid = t.accounts.select("platform", "account_id").cross_join(t.months)
    keys = ["platform", "account_id", "month"]
    grid = grid.left_join(features, keys).drop(*[f"{k}_right" for k in keys])
    grid = grid.left_join(influence, keys).drop(*[f"{k}_right" for k in keys])
    fill = {c: 0 for c in grid.columns if c not in keys and c not in ("case_points",)}
    fill["case_points"] = 0.0
    grid = grid.fill_null(fill)

    raws = {f"{d}_raw": raw_dimension(grid, m, d) for d in COMPUTED_DIMENSIONS}
    raws["influence_raw"] = grid.case_points + m.campaign_points * grid.campaigns.cast("float64")
    scored = grid.mutate(**raws)
    scores = {}
    for dimension in (*COMPUTED_DIMENSIONS, "influence"):
        raw = scored[f"{dimension}_raw"]
        top = raw.max().over(group_by=[scored.platform, scored.month])
        # raw / top first: the best account's x / x is exactly 1, so it scores exactly the scale.
        scores[dimension] = ibis.ifelse(top > 0, raw / top * m.scale, 0.0)
    scored = scored.mutate(**scores)
    total = ibis.literal(0.0)
    for dimension, weight in m.total_weights.items():
        total = total + weight * scored[dimension]
    scored = scored.mutate(total=total)
    return scored.select(
        "platform", "account_id", "month",
        posts=scored.n.cast("int64"), originals=scored.n_o.cast("int64"),
        reach_raw="reach_raw", engagement_raw="engagement_raw", innovation_raw="innovation_raw",
        influence_raw="influence_raw", reach="reach", engagement="engagement", innovation="innovation",
        influence="influence", total="total",
    )


# P(X <= k) of a Poisson(1) variable, k = 0..6 (beyond: 7): a resample's weight of one post.
_POISSON_1_CDF = (0.36787944, 0.73575888, 0.91969860, 0.98101184, 0.99634015, 0.99940582, 0.99991676)
_UNIT = 1 << 20


def bootstrap_totals(t: Tables, m: Methodology, platform: str, replicates: int, seed: int) -> ir.Table:
    """Per (account, replicate b): the period's sum of the monthly reach, engagement and innovation
    contributions (weight × score) on one bootstrap resample of each account's posts in each month.

    A Poisson bootstrap: each post enters replicate b with a Poisson(1) weight drawn from a hash of
    (post, b, seed), the same on every run; in expectation it is resampling each account-month's
    posts with replacement, and it needs no per-replicate loop. Each replicate is normalised to its
    own platform-month maxima, as the scores are. Influence (cases, campaigns) is not resampled.
    """
    posts = t.posts.filter(t.posts.platform == platform)
    facts = scored_facts(Tables(**{**t.__dict__, "posts": posts}), m, platform=platform)
    metrics = [c for c in facts.columns if c in METRICS]
    # The post's hash once, before the rows multiply by the replicates.
    facts = facts.select(*[c for c in facts.columns if c != "post_id"], ph=facts.post_id.hash() + seed)
    facts = facts.mutate(b=ibis.range(0, replicates).unnest())
    h = (facts.ph + facts.b.cast("int64") * 1_000_003).hash()
    u = ((h % _UNIT) + _UNIT) % _UNIT
    weight = ibis.cases(*[(u < int(p * _UNIT), k) for k, p in enumerate(_POISSON_1_CDF)], else_=len(_POISSON_1_CDF))
    w = facts.mutate(w=weight.cast("int64"))
    aggregates = {"n": w.w.sum(), "n_o": w.w.sum(where=w.original).fill_null(0),
                  "n_i": w.w.sum(where=w.innovative).fill_null(0)}
    for name in sorted(_needed_sums(m, platform)):
        if name.startswith("sum_o_"):
            aggregates[name] = (w.w * w[name[6:]]).sum(where=w.original).fill_null(0)
        elif name.startswith("sum_i_"):
            aggregates[name] = (w.w * w[name[6:]]).sum(where=w.innovative).fill_null(0)
        elif name[4:] in metrics:
            aggregates[name] = (w.w * w[name[4:]]).sum()
    grid = w.group_by(["platform", "account_id", "month", "b"]).aggregate(**aggregates)
    contribution = ibis.literal(0.0)
    for dimension in COMPUTED_DIMENSIONS:
        raw = raw_dimension(grid, m, dimension, (platform,))
        top = raw.max().over(group_by=[grid.platform, grid.month, grid.b])
        contribution = contribution + m.total_weights[dimension] * ibis.ifelse(top > 0, raw / top * m.scale, 0.0)
    scored = grid.mutate(s=contribution)
    return scored.group_by(["platform", "account_id", "b"]).aggregate(s=scored.s.sum())
