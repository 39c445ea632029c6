"""The whole-file validation (ingest/frame.py) against the row-by-row reference (canonical.validate):
the same posts and the same rejects, with the same columns and reasons, on values as exports
really carry them and on the awkward ones."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest

from govmedia.core.rows import Comment, Post, Reject, native_bits
from govmedia.core.vocabulary import METRICS
from govmedia.ingest.canonical import Attribution, Record, validate
from govmedia.ingest.forms import load_classifier
from govmedia.ingest.frame import frame_of, validate_frame

REGISTERED = frozenset({("weibo", "1001"), ("weibo", "1002"), ("douyin", "2001"), ("wechat", "MzA1")})

TIMES = ["2020-03-01 10:00:00", "2020-03-01 10:00", "2020-03-01T10:00:00", "2020-3-1 8:05", "2020年3月1日 10时05分",
         "2020-03-01 10:00:00+08:00", "2020-03-01T02:00:00Z", "2020-03-01 10:00:00+09:00", "1583028000",
         "1583028000123", 1583028000, 1583028000123.0, "2020-02-30 10:00", "2020-03-01 24:00:00", "", None, "-",
         "明天", datetime(2020, 3, 1, 10, 0), date(2020, 3, 1), "0", "2020/03/01", " 2020-03-01 10:00:00 "]
COUNTS = ["12", "1,234", "1.2万", "10万+", "3亿", "", None, "-", "暂无", "-5", "abc", 3.0, 2.5, True, 7, " 8 ", "1e3"]
BOOLS = ["是", "否", "True", "false", "原创", "1", "0", 1.0, None, "", "也许", True]
POSITIONS = ["1", "2", "0", "-1", "1.0", "x", None, "", 3.0]
PLATFORMS = ["微博", "weibo", "WEIBO", "抖音", "公众号", "", None, "小红书", "推特"]
ACCOUNTS = ["1001", "1002", " 1001 ", "1001.0", 1001.0, "9999", "", None, "2001", "MzA1"]
POST_IDS = ["p1", "4552779177012439\t", "", None, "  ", 4552779177012439, "none"]
FORMS = [None, "视频", "视频,图文", "video", "长图；海报", "不知道", "", "none"]
TEXTS = [None, "", "  ", "none", "今天的微视频来了 #防疫# 一图读懂", "H5 页面", "看h5n1的报道", "vlog：城管的一天",
         "#话题A #话题B\u3000#C", "#不是话题 # 和 #是话题#", "长图\n第二行 #多行#", "NULL", "海报海报", "Vlog"]


def _records(count: int) -> list[Record]:
    """Rows cycling through the awkward values, each column at its own pace."""
    columns = {
        "platform": PLATFORMS, "account_id": ACCOUNTS, "post_id": POST_IDS, "published_at": TIMES,
        "observed_at": [None, "2020-04-01 00:00:00", "2020-02-01 00:00:00", "1585670400000", "坏"],
        "is_original": BOOLS, "position": POSITIONS, "forms": FORMS, "title": TEXTS, "text": list(reversed(TEXTS)),
        "url": [None, "https://example.org/a", " ", "none"],
        **{m: COUNTS[i:] + COUNTS[:i] for i, m in enumerate(METRICS)},
    }
    stated = [(), ("video",), ("image", "text")]
    tags = [(), ("自带话题",), ("a", "b")]
    defaults = [(), ("text",), ("article",)]
    out = []
    for n in range(count):
        values = {f: vals[(n * (i + 1) + n // 7) % len(vals)] for i, (f, vals) in enumerate(columns.items())}
        names = {f: f"列{f}" for f in columns if (n + len(f)) % 5}  # some fields without a column
        error = "第 3 列: JSON 格式错误" if n % 97 == 5 else None
        out.append(Record(n + 2, {"n": n}, values, names, forms=stated[n % 3], hashtags=tags[(n // 3) % 3],
                          default_forms=defaults[(n // 2) % 3], error=error))
    return out


def _reference(records, forced, hint, classifier):
    who = Attribution(registered=REGISTERED, forced=forced, platform_hint=hint)
    posts, rejects = {}, []
    for record in records:
        outcome = validate(record, who, classifier)
        if isinstance(outcome, Reject):
            rejects.append((outcome.line, outcome.column, outcome.reason))
        else:
            posts[outcome.line] = outcome
    return posts, rejects


def _as_row(post: Post) -> dict:
    return {"platform": post.platform, "post_id": post.post_id, "account_id": post.account_id,
            "published_at": post.published_at, "observed_at": post.observed_at, "is_original": post.is_original,
            "forms": sorted(post.forms), "title": post.title, "text": post.text, "url": post.url,
            "position": post.position, **dict(zip(METRICS, post.metrics)), "hashtags": sorted(post.hashtags),
            "native": native_bits(post.native)}


@pytest.mark.parametrize("forced, hint", [(None, "weibo"), (None, None), (("weibo", "1001"), "weibo"),
                                          (("douyin", "2001"), None)])
def test_whole_file_validation_equals_the_row_by_row_reference(forced, hint):
    classifier = load_classifier()
    records = _records(3000)
    posts, rejects = _reference(records, forced, hint, classifier)
    checked = validate_frame(frame_of(records, lambda line: {}), registered=REGISTERED, forced=forced,
                             platform_hint=hint, classifier=classifier)
    assert checked.rejects == rejects
    rows = checked.stage.to_pylist()
    assert [r["line"] for r in rows] == sorted(posts)
    for row in rows:
        line = row.pop("line")
        assert row == _as_row(posts[line]), line
    assert posts, "the corpus should let some rows through"
    assert len({reason for _, _, reason in rejects}) > 10, "and refuse others for many reasons"


def test_dates_that_do_not_exist_and_missing_words_as_the_reference():
    """The kernels' checks that a parsed day is the text's, and that a cell is a missing word, looked
    up on the cells' first characters only."""
    times = ["2020-04-31 12:00:00", "2019-02-29 08:00", "2020-02-29 08:00", "2020-13-01 10:00", "2020-12-00 10:00",
             "2020-12-31 23:59:59", "2021-01-01T00:00"]
    texts = [None, " Null\t", "nones", "N/A ", "暂无", "暂无数据", "NaN", "无", "无人机", "-", "--x"]
    records = [Record(n + 2, {}, {"platform": "微博", "account_id": "1001", "post_id": f"p{n}", "published_at": when,
                                  "title": text, "text": text, "url": text, "reposts": text},
                      {"published_at": "发布时间", "text": "正文"})
               for n, (when, text) in enumerate(itertools.product(times, texts))]
    classifier = load_classifier()
    posts, rejects = _reference(records, None, "weibo", classifier)
    checked = validate_frame(frame_of(records, lambda line: {}), registered=REGISTERED, forced=None,
                             platform_hint="weibo", classifier=classifier)
    assert checked.rejects == rejects
    rows = checked.stage.to_pylist()
    assert [r["line"] for r in rows] == sorted(posts) and posts and rejects
    for row in rows:
        assert row == {"line": row["line"], **_as_row(posts[row["line"]])}


def test_forms_and_topics_found_by_the_kernels_match_the_classifier():
    classifier = load_classifier()
    texts = ["微视频", "视频", "H5", "h5n1", "我的vlog", "vlog", "长图海报", "一图读懂·图解", "#a#b#c#", "#x #y#",
             "#开放\u3000话题", "无", "海报H5视频", None]
    records = [Record(n + 1, {}, {"platform": p, "account_id": a, "post_id": f"p{n}", "published_at": "2020-03-01",
                                  "title": t, "text": x}, {"title": "标题", "text": "正文"})
               for n, ((p, a), t, x) in enumerate(itertools.product([("weibo", "1001"), ("douyin", "2001")],
                                                                     texts, texts))]
    posts, rejects = _reference(records, None, None, classifier)
    checked = validate_frame(frame_of(records, lambda line: {}), registered=REGISTERED, forced=None,
                             platform_hint=None, classifier=classifier)
    assert not rejects and not checked.rejects
    for row in checked.stage.to_pylist():
        post = posts[row["line"]]
        assert (row["forms"], row["hashtags"]) == (sorted(post.forms), sorted(post.hashtags)), (post.title, post.text)


def test_overlapping_keywords_of_two_forms_are_decided_as_the_classifier_scans():
    classifier = load_classifier()
    texts = ["动漫画展", "漫画动漫", "直播客厅", "云直播客", "播客直播", "动漫", "漫画", "直播", "播客", "H5动漫画", "vlog直播客"]
    records = [Record(n + 1, {}, {"platform": "weibo", "account_id": "1001", "post_id": f"p{n}",
                                  "published_at": "2020-03-01", "text": x}, {"text": "正文"})
               for n, x in enumerate(texts)]
    posts, _ = _reference(records, None, None, classifier)
    checked = validate_frame(frame_of(records, lambda line: {}), registered=REGISTERED, forced=None,
                             platform_hint=None, classifier=classifier)
    got = {row["line"]: row["forms"] for row in checked.stage.to_pylist()}
    assert got == {line: sorted(post.forms) for line, post in posts.items()}
    assert got[1] != sorted({"animation", "comic"}), "a scan that consumes 动漫 does not also find 漫画"


def test_comments_validated_by_column_equal_the_row_by_row_reference():
    from govmedia.ingest.canonical import validate_comment
    from govmedia.ingest.frame import validate_comments

    ids = ["c1", " c2 ", "", None, "none", 123, 4.0, "0"]
    columns = {
        "comment_id": ids, "post_id": list(reversed(ids)), "author_id": ["u1", None, "u2", "", 77],
        "author_sec_uid": [None, "MS4w", " ", "null"], "parent_comment_id": ["0", "c1", None, "", "c9", 4.0],
        "commented_at": TIMES, "observed_at": [None, "2020-04-01 00:00:00", "1583028000", "坏", "", 1585670400000],
        "text": TEXTS,
    }
    records = []
    for n in range(2000):
        values = {f: vals[(n * (i + 1) + n // 5) % len(vals)] for i, (f, vals) in enumerate(columns.items())}
        names = {f: f"列{f}" for f in columns if (n + len(f)) % 4}  # some fields without a column
        records.append(Record(n + 2, {"n": n}, values, names, error="坏行" if n % 89 == 3 else None))
    expected = [validate_comment(r, "weibo") for r in records]
    assert validate_comments(records, "weibo") == expected
    assert sum(isinstance(e, Comment) for e in expected) > 50
    assert len({e.reason for e in expected if isinstance(e, Reject)}) > 8


def test_frames_checked_together_equal_each_checked_alone():
    """A folder's small files are validated as one frame (concat_frames) and split again: every
    file's stage rows and rejects are what validating it alone gives, lines included; with the
    concatenation large enough, in parts on several threads too."""
    from govmedia.ingest import frame as fr
    from govmedia.ingest.pipeline import _split

    classifier = load_classifier()
    records = _records(2400)
    for n in range(0, 2400, 3):  # every third row a good one, so that the stages are large too
        values = {"platform": "weibo", "account_id": "1001", "post_id": f"ok{n}", "published_at": "2020-03-01 10:00",
                  "text": TEXTS[n % len(TEXTS)], "reads": str(n)}
        records[n] = Record(n + 2, {"n": n}, values, {f: f"列{f}" for f in values}, forms=(), hashtags=(),
                            default_forms=())
    # Files of different sizes and platforms; one of Arrow columns (as the generic CSV's).
    cuts = [(0, 700, "weibo"), (700, 701, "douyin"), (701, 1500, None), (1500, 1500, "weibo"), (1500, 2400, "wechat")]
    frames = [frame_of(records[a:b], lambda line: {}) for a, b, _ in cuts]
    hints = [h for _, _, h in cuts]
    frames[2].values = {f: (fr._strings(v) if f in ("post_id", "text") else v) for f, v in frames[2].values.items()}
    alone = [validate_frame(f, registered=REGISTERED, forced=None, platform_hint=h, classifier=classifier)
             for f, h in zip(frames, hints)]
    for part_rows in (10**9, 500):
        fr._PART_ROWS, before = part_rows, fr._PART_ROWS
        try:
            joined = validate_frame(fr.concat_frames(frames, hints), registered=REGISTERED, forced=None,
                                    platform_hint=None, classifier=classifier)
        finally:
            fr._PART_ROWS = before
        stages, rejects = _split(joined, frames)
        for one, stage, refused in zip(alone, stages, rejects):
            assert stage.to_pylist() == one.stage.to_pylist()
            assert refused == one.rejects
    assert sum(s.num_rows for s in stages) > 700 and sum(len(r) for r in rejects) > 1000


def test_the_white_space_trimmed_is_what_str_strip_takes():
    from govmedia.ingest.frame import WHITESPACE

    assert WHITESPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())


def test_topics_cut_by_the_kernels_are_those_the_pattern_finds():
    """`frame._topics` (split at "#") against `extract_hashtags` (the pattern), on random strings made
    of the pieces that change how "#" pair: empty and over-long pieces, line breaks, white space
    at either end, and platforms of open topics."""
    import random

    import pyarrow as pa

    from govmedia.core.vocabulary import extract_hashtags
    from govmedia.ingest.frame import _topics

    rng = random.Random(7)
    pieces = ["#", "#", "#", "话题", "a", " ", "\u3000", "\n", "\r\n", "x" * 101, "y" * 99, "##", "# ", "政务"]

    def text():
        return None if rng.random() < 0.1 else "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 9)))

    platforms = ["weibo", "wechat", "douyin", "xiaohongshu", "kuaishou", "bilibili", "toutiao"]
    rows = [(rng.choice(platforms), text(), text()) for _ in range(3000)]
    platform, title, body = (pa.array([r[k] for r in rows], pa.string()) for k in range(3))
    got = _topics(title, body, platform, None).to_pylist()
    want = [sorted(set(extract_hashtags(t, x, platform=p))) for p, t, x in rows]
    assert got == want
    assert sum(map(len, want)) > 500 and sum(1 for w in want if w) > 300  # the strings do hold topics
    stated = [tuple(rng.sample(["甲", "乙", "话题"], rng.randrange(0, 3))) for _ in rows]
    assert _topics(title, body, platform, stated).to_pylist() == [sorted({*s, *w}) for s, w in zip(stated, want)]


def test_forms_found_in_the_bytes_are_those_the_classifier_finds():
    """`frame._read_texts` (every keyword looked for at once in the UTF-8 bytes) against the
    classifier's scan, on random strings of keywords, their pieces, Latin neighbours, case and
    line breaks."""
    import random

    import pyarrow as pa

    from govmedia.ingest.frame import _bits, _read_texts

    classifier = load_classifier()
    rng = random.Random(11)
    words = sorted(classifier.form_of)
    pieces = [*words, *(w[:1] for w in words), *(w[1:] for w in words), "H5", "VLOG", "Live", "VR", "a", "5", "0",
              "_", " ", "中", "\n", "图", "°", "直播客", "动漫画"]

    def text():
        return None if rng.random() < 0.1 else "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 7)))

    rows = [(text(), text()) for _ in range(4000)]
    title, body = (pa.array([r[k] for r in rows], pa.string()) for k in range(2))
    found, _ = _read_texts(classifier, title, body, pa.array(["weibo"] * len(rows)), None)
    want = [_bits(classifier.classify(t, x)) for t, x in rows]
    assert found.tolist() == want
    assert sum(1 for w in want if w) > 3000 and len(set(want)) > 100  # many forms, in many combinations
