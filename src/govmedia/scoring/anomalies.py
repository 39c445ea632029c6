"""Inflation (刷量) flags as Ibis expressions, on DuckDB or Spark: which posts' figures look bought.

Each rule of the thresholds file (methodology/anomalies.toml) compares a post with its own
account's history: medians and median absolute deviations (MAD) of logarithms over all of the
account's stored posts, pulled towards the platform's when the account has few posts. One row per
flagged (post, kind) comes out, with the numbers its evidence is written from; `replacements`
turns flags into the values the discount scores with.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from govmedia.core.vocabulary import METRIC_NAMES, METRICS, PROFILES
from govmedia.methodology import Methodology
from govmedia.methodology.anomalies import RATIO_KINDS, Rule, Thresholds
from govmedia.scoring.expressions import chosen_snapshots, local_time

MAD_SCALE = 1.4826  # MAD × this estimates a normal distribution's standard deviation

FLAG_COLUMNS = ("platform", "account_id", "post_id", "published_at", "month", "kind", "metric", "value", "before",
                "response", "typical", "observed", "severity", "replacement", "window_us", "before_us",
                *(f"m_{x}" for x in METRICS))


def _robust(x: ir.Table, value: str, keys: list[str]) -> ir.Table:
    """Per `keys`: n, median and MAD of column `value`."""
    med = x.group_by(keys).aggregate(n=x.count(), med=x[value].median())
    d = x.join(med, keys)
    dev = d.mutate(dev=(d[value] - d.med).abs())
    mad = dev.group_by(keys).aggregate(mad=dev.dev.median())
    return med.join(mad, keys)


def _typical(x: ir.Table, value: str, th: Thresholds, neutral: float | None = None) -> ir.Table:
    """`x` with the account's typical `value` (typ) and spread, both shrunk towards the platform's:
    the platform's medians count as `prior_posts` posts of the account's own. With `neutral`, the
    platform's own median is shrunk towards it the same way: where few posts are observed twice,
    a single jump must not become the platform's "usual" growth."""
    account = _robust(x, value, ["platform", "account_id"])
    platform = _robust(x, value, ["platform"]).rename(p_n="n", p_med="med", p_mad="mad")
    k = ibis.literal(th.prior_posts, type="float64")
    if neutral is not None:
        pn = platform.p_n.cast("float64")
        platform = platform.mutate(p_med=(pn * platform.p_med + k * neutral) / (pn + k),
                                   p_mad=pn * platform.p_mad / (pn + k))
    stats = account.join(platform, "platform")
    n = stats.n.cast("float64")
    w = n / (n + k)
    stats = stats.select(
        "platform", "account_id",
        typ=w * stats.med + (1 - w) * stats.p_med,
        spread=ibis.greatest(MAD_SCALE * (w * stats.mad + (1 - w) * stats.p_mad), th.min_spread),
    )
    return x.join(stats, ["platform", "account_id"])


def _ratio_flags(posts: ir.Table, snapshots: ir.Table, rule: Rule, th: Thresholds, m: Methodology) -> ir.Table:
    p = posts.filter(posts.platform.isin(rule.platforms))
    # The rule's platforms and metrics only: the snapshot choice is an aggregate over all snapshots.
    chosen = chosen_snapshots(snapshots.filter(snapshots.platform.isin(rule.platforms)), m,
                              tuple(x for x in METRICS if x == rule.volume or x in rule.response))
    j = p.left_join(chosen, ["platform", "post_id"])
    v = j[rule.volume].fill_null(0).cast("float64")
    r = ibis.literal(0.0)
    for name in rule.response:
        r = r + j[name].fill_null(0).cast("float64")
    carried = {f"m_{x}": j[x].fill_null(0).cast("int64") if x in chosen.columns else ibis.null("int64")
               for x in METRICS}  # the counted figures, for the evidence
    x = j.select("platform", "account_id", "post_id", "published_at", v=v, r=r,
                 lv=(v + 1).ln(), lr=((r + 1) / (v + 1)).ln(), **carried)
    # Typical volume and typical rate, each against the account's own history.
    x = _typical(x, "lv", th).rename(typ_lv="typ", spread_lv="spread")
    x = _typical(x, "lr", th)
    flagged = x.filter(
        (x.v >= rule.min_volume)
        & (x.lv - x.typ_lv >= ibis.literal(rule.volume_factor).ln())
        & (x.typ - x.lr >= ibis.greatest(ibis.literal(rule.rate_factor).ln(), rule.z * x.spread))
    )
    # The discount: the volume its response would carry at the account's typical rate (never
    # below 0, never above the volume itself).
    expected = ibis.greatest(((flagged.r + 1) / flagged.typ.exp() - 1).round().cast("int64"), 0)
    return flagged.select(
        "platform", "account_id", "post_id", "published_at",
        month=local_time(flagged.published_at, m).strftime("%Y-%m"),
        kind=ibis.literal(rule.kind), metric=ibis.literal(rule.volume),
        value=flagged.v.cast("int64"), before=ibis.null("int64"), response=flagged.r.cast("int64"),
        typical=flagged.typ.exp(), observed=flagged.lr.exp(),
        severity=1 - (flagged.lr - flagged.typ).exp(),
        replacement=ibis.least(expected, flagged.v.cast("int64")),
        window_us=ibis.null("int64"), before_us=ibis.null("int64"),
        **{f"m_{x}": flagged[f"m_{x}"] for x in METRICS},
    )


def _jump_flags(posts: ir.Table, snapshots: ir.Table, rule: Rule, th: Thresholds, m: Methodology) -> ir.Table:
    s = snapshots.filter(snapshots.platform.isin(rule.platforms) & snapshots.age_us.notnull())
    # Only posts observed at least twice have a pair (most posts are observed once).
    several = s.group_by(["platform", "post_id"]).aggregate(k=s.count())
    s = s.semi_join(several.filter(several.k > 1), ["platform", "post_id"])
    s = s.select("platform", "post_id", "age_us", v=s[rule.volume].fill_null(0).cast("float64"))
    w = ibis.window(group_by=[s.platform, s.post_id], order_by=s.age_us)
    pairs = s.mutate(prev=s.v.lag().over(w), prev_age=s.age_us.lag().over(w))
    pairs = pairs.filter(pairs.prev.notnull())
    pairs = pairs.join(posts.select("platform", "post_id", "account_id", "published_at"), ["platform", "post_id"])
    x = pairs.mutate(lg=((pairs.v + 1) / (pairs.prev + 1)).ln(), inc=pairs.v - pairs.prev)
    x = _typical(x, "lg", th, neutral=0.0)  # neutral: no growth between two observations
    flagged = x.filter(
        (x.inc >= rule.min_increment)
        & (x.lg - x.typ >= ibis.greatest(ibis.literal(rule.jump_factor).ln(), rule.z * x.spread))
    )
    # One verdict per post: its worst pair.
    flagged = flagged.mutate(severity=1 - (flagged.typ - flagged.lg).exp())
    worst = ibis.window(group_by=[flagged.platform, flagged.post_id], order_by=[flagged.severity.desc(), flagged.age_us])
    flagged = flagged.mutate(rn=ibis.row_number().over(worst))
    flagged = flagged.filter(flagged.rn == 0)
    # The discount: what the later snapshot would read had it grown by the account's typical factor
    # (at least the earlier reading); the excess over it is taken off the counted value.
    expected = ibis.greatest(((flagged.prev + 1) * flagged.typ.exp() - 1).round().cast("int64"),
                             flagged.prev.cast("int64"))
    return flagged.select(
        "platform", "account_id", "post_id", "published_at",
        month=local_time(flagged.published_at, m).strftime("%Y-%m"),
        kind=ibis.literal("jump"), metric=ibis.literal(rule.volume),
        value=flagged.v.cast("int64"), before=flagged.prev.cast("int64"), response=ibis.null("int64"),
        typical=flagged.typ.exp(), observed=flagged.lg.exp(), severity="severity",
        replacement=ibis.least(expected, flagged.v.cast("int64")),
        window_us=flagged.age_us, before_us=flagged.prev_age,
        **{f"m_{x}": ibis.null("int64") for x in METRICS},
    )


def post_flags(posts: ir.Table, snapshots: ir.Table, m: Methodology, th: Thresholds | None = None) -> ir.Table | None:
    """Every flagged (post, kind) of the store under the thresholds (the methodology's when not
    given); None when no rule applies. Stats come from all stored posts; filter the months after."""
    th = th or m.thresholds
    parts = [_ratio_flags(posts, snapshots, rule, th, m) if rule.kind in RATIO_KINDS
             else _jump_flags(posts, snapshots, rule, th, m) for rule in th.rules]
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out


def platform_flags(con, platform: str, m: Methodology) -> list[dict]:
    """Every flagged (post, kind) of one platform under the methodology's thresholds, as rows
    (FLAG_COLUMNS); compiled once (cached SQL) and kept in memory until the data changes."""
    from dataclasses import replace

    from govmedia.scoring import cached_sql
    from govmedia.store.memo import remembered

    th = m.thresholds
    rules = tuple(replace(r, platforms=(platform,)) for r in th.rules if platform in r.platforms)
    if not rules:
        return []
    th = replace(th, rules=rules)

    def compute():
        sql = cached_sql(con, f"flags-{platform}", m, lambda t: post_flags(
            t.posts.filter(t.posts.platform == platform), t.snapshots, m, th))
        cursor = con.execute(f"SELECT * FROM ({sql}) ORDER BY account_id, month, post_id, kind")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]

    return remembered(con, ("flags", platform, m.sha256, th.sha256), platform, [], compute)


def replacements(flags: ir.Table, m: Methodology, metrics: tuple[str, ...]) -> ir.Table:
    """Per flagged post and each of `metrics`: `cap_<m>`, the smallest replacement of its ratio
    flags (the value its response would carry), and `cut_<m>`, the excess of its jump (taken off
    the counted value; growth after the jump stays). A jump after the scoring window (its later
    snapshot is not the one that counts) changes nothing. NULL where no flag applies."""
    window_us = m.window_us
    counted = flags.filter(flags.window_us.isnull() | (flags.window_us <= window_us))
    ratio = counted.kind != "jump"
    aggregates = {}
    for name in metrics:
        on = counted.metric == name
        aggregates[f"cap_{name}"] = counted.replacement.min(where=on & ratio)
        aggregates[f"cut_{name}"] = (counted.value - counted.replacement).max(where=on & ~ratio)
    return counted.group_by(["platform", "post_id"]).aggregate(**aggregates)


def discounted(facts: ir.Table, flags: ir.Table, m: Methodology, metrics: tuple[str, ...]) -> ir.Table:
    """`facts` (post_facts) with flagged posts' inflated metrics replaced (the [anomalies] discount):
    capped by the ratio flags, less the jumps' excess; never above the counted value nor below 0."""
    new = replacements(flags, m, metrics)
    j = facts.left_join(new, ["platform", "post_id"])

    def value(name):
        capped = ibis.least(j[name], j[f"cap_{name}"].fill_null(j[name]))
        return ibis.greatest(capped - j[f"cut_{name}"].fill_null(0), 0).cast("int64")

    return j.select(*[c for c in facts.columns if c not in metrics], **{name: value(name) for name in metrics})


def monthly_flags(facts: ir.Table, flags: ir.Table, th: Thresholds) -> ir.Table:
    """Per (platform, account, month) of `facts`: posts, flagged posts, and the account-month's
    volume metric (reads, plays, reposts, likes) in all and in the flagged posts."""
    from govmedia.core.vocabulary import PLATFORMS

    flagged_posts = flags.select("platform", "post_id").distinct()
    f = facts.left_join(flagged_posts.mutate(flagged=ibis.literal(True)), ["platform", "post_id"])
    f = f.select(*facts.columns, flagged=f.flagged.fill_null(False))
    watched = [(p, th.volume_metric(p)) for p in PLATFORMS if th.volume_metric(p) in facts.columns]
    f = f.mutate(
        volume=ibis.cases(*[(f.platform == p, f[x].cast("float64")) for p, x in watched], else_=ibis.literal(0.0)),
        metric=ibis.cases(*[(f.platform == p, ibis.literal(x)) for p, x in watched], else_=ibis.null("string")),
    )
    out = f.group_by(["platform", "account_id", "month", "metric"]).aggregate(
        posts=f.count(), flagged_posts=f.count(where=f.flagged),
        flagged_volume=f.volume.sum(where=f.flagged).fill_null(0.0), volume=f.volume.sum(),
    )
    return out


def marks(t, m: Methodology, platform: str | None = None, th: Thresholds | None = None) -> ir.Table:
    """monthly_flags of the months of `t.months` (of one platform, when given) under the
    thresholds (the methodology's by default), with the counted snapshots as they are
    (undiscounted: the mark says what the raw figures hold)."""
    from dataclasses import replace

    from govmedia.scoring.expressions import post_facts

    th = th or m.thresholds
    posts = t.posts
    if platform is not None:
        th = replace(th, rules=tuple(replace(r, platforms=(platform,)) for r in th.rules if platform in r.platforms))
        posts = posts.filter(posts.platform == platform)
    metrics = tuple(x for x in METRICS if any(x == r.volume for r in th.rules))
    facts = post_facts(posts, t.snapshots, t.months, m, wide=False, metrics=metrics or METRICS[:1])
    flags = post_flags(posts, t.snapshots, m, th)
    if flags is None:
        return facts.group_by(["platform", "account_id", "month"]).aggregate(
            metric=ibis.null("string"), posts=facts.count(), flagged_posts=ibis.literal(0, type="int64"),
            flagged_volume=ibis.literal(0.0), volume=ibis.literal(0.0)).limit(0)
    return monthly_flags(facts, flags, th)


def _factor(x: float) -> str:
    """A growth factor as people write it: 1.3, 60, 5,000."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _per_hundred(rate: float) -> str:
    """A rate per 100 as people write it: 2.6, 195, 0.004 (three significant digits, no exponent)."""
    value = rate * 100
    return f"{value:.0f}" if value >= 100 else f"{float(f'{value:.2g}'):g}" if value < 1 else f"{value:.3g}"


def _hours(us: int | None) -> str:
    if us is None:
        return "未注明时间的观测"
    hours = us / 3_600_000_000
    return f"发布后 {hours:.0f} 小时" if hours >= 1 else f"发布后 {us / 60_000_000:.0f} 分钟"


def evidence(row: dict, response: tuple[str, ...]) -> str:
    """The flag in words, from the numbers it was decided on."""
    metric = METRIC_NAMES[row["metric"]]
    if row["kind"] == "jump":
        return (f"{metric} {row['before']} → {row['value']}（{_hours(row['before_us'])}至{_hours(row['window_us'])}，"
                f"增至前次的 {_factor(row['observed'])} 倍）；本账号两次观测之间通常增至前次的 {_factor(row['typical'])} 倍")
    carried = PROFILES[row["platform"]].metrics
    shown = [x for x in response if x in carried]
    figures = "，".join(f"{METRIC_NAMES[x]} {row['m_' + x]}" for x in shown)
    said = "、".join(METRIC_NAMES[x] for x in shown)
    return (f"{metric} {row['value']}，{figures}；本账号通常每 100 次{metric}有 {_per_hundred(row['typical'])} 次{said}，"
            f"本篇 {_per_hundred(row['observed'])} 次")  # both as (response + 1) / (volume + 1)
