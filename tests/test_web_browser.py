"""The site in a real browser: Debian's Chromium driven by Playwright against `govmedia serve`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from util import served
from web_fixtures import NEW_POSTS, PASSWORD, build_store

CHROMIUM = "/usr/bin/chromium"  # installed by the project's setup (scripts/install-system-deps.sh)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def site(tmp_path):
    with served(build_store(tmp_path), GOVMEDIA_SECRET_KEY="browser-test") as base:
        yield base


@pytest.fixture
def browser():
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield instance
        instance.close()


def test_sign_in_upload_leaderboard_account(site, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    period = "from=2020-02&to=2020-03"
    page.goto(f"{site}/rankings?platform=weibo&category=district&{period}")
    first = page.locator("#ranking tbody tr").first
    expect(first).to_contain_text("甲区发布")

    # Sign in as an editor.
    page.click("text=登录")
    page.fill("input[name=username]", "editor1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    expect(page.locator("header")).to_contain_text("editor1")

    # Register the new account, upload its posts, rescore.
    page.goto(f"{site}/data/accounts")
    page.click("#registry-forms summary")
    form = page.locator("#account-form")
    form.locator("select[name=platform]").select_option("weibo")
    form.locator("input[name=account_id]").fill("C")
    form.locator("input[name=name]").fill("丙区新发布")
    form.locator("select[name=category]").select_option("district")
    form.locator("button").click()
    expect(page.locator(".notice")).to_contain_text("丙区新发布")
    page.goto(f"{site}/data")
    upload = tmp_path / "new-posts.csv"
    upload.write_text(NEW_POSTS, encoding="utf-8")
    page.set_input_files("#import input[type=file]", str(upload))
    page.click("#import button")
    # The import runs as a job: its page polls the progress, then shows the result (also after a reload).
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    report = page.locator("#import-report")
    expect(report).to_contain_text("接受 2", timeout=30_000)
    expect(report).to_contain_text("拒收 1")
    expect(report).to_contain_text("不在账号名录中")
    expect(report.locator("a:has-text('下载拒收行')")).to_be_visible()
    page.reload()
    expect(page.locator("#import-report")).to_contain_text("接受 2")
    page.goto(f"{site}/data")
    expect(page.locator("#jobs")).to_contain_text("new-posts.csv")
    page.fill("#score input[name=from]", "2020-02")
    page.fill("#score input[name=to]", "2020-03")
    page.click("#score button")
    expect(page.locator("#score-result")).to_contain_text("已重新计算", timeout=30_000)

    # The leaderboard changed: the new account leads.
    page.goto(f"{site}/rankings?platform=weibo&category=district&{period}")
    expect(page.locator("#ranking tbody tr").first).to_contain_text("丙区新发布")
    page.screenshot(path=str(tmp_path / "rankings.png"), full_page=True)

    # Sorting by a score column works in the browser: first click the largest first, second the smallest.
    page.click("#ranking th:has-text('传播力')")
    values = [float(v) for v in page.locator("#ranking tbody tr td:nth-child(4)").all_inner_texts()]
    assert values == sorted(values, reverse=True) and len(values) == 3
    page.click("#ranking th:has-text('传播力')")
    values = [float(v) for v in page.locator("#ranking tbody tr td:nth-child(4)").all_inner_texts()]
    assert values == sorted(values)

    # The account page: both charts rendered into canvases, the explanation is there.
    page.click("#ranking a:has-text('丙区新发布')")
    expect(page.locator("h1")).to_contain_text("丙区新发布")
    for chart in ("#line", "#radar"):
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
        assert page.locator(chart).get_attribute("data-rendered") == "1"
    expect(page.locator("#explain")).to_contain_text("传播力")
    page.screenshot(path=str(tmp_path / "account.png"), full_page=True)
    # The canvas is not blank: some pixels differ from the background.
    blank = page.evaluate("""() => {
        const c = document.querySelector('#line canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) { if (d[i] < 200 || d[i + 1] < 200) return false; }
        return true; }""")
    assert not blank

    # The methodology page shows the file in force.
    page.goto(f"{site}/methodology")
    expect(page.locator("body")).to_contain_text("sha256")
    expect(page.locator("body")).to_contain_text("0.3 × 传播力")


def test_phone_screen_and_writes_refused_without_sign_in(site, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{site}/rankings?platform=weibo&category=district&from=2020-02&to=2020-03")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # nothing sticks out of a phone screen
    page.goto(f"{site}/data")
    expect(page).to_have_url(f"{site}/login?next=%2Fdata")
    status = page.evaluate(
        "async () => (await fetch('/api/v1/scores', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({from: '2020-02', to: '2020-03'})})).status")
    assert status == 401


def test_editor_runs_a_check_and_filters_the_oversight_page(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # Inspection results are for signed-in users: no link for an anonymous visitor, and the page
    # itself asks to sign in first, then leads back to it.
    page.goto(f"{site}/")
    expect(page.locator("header nav")).not_to_contain_text("合规检查")
    expect(page.locator("header nav")).not_to_contain_text("疑似刷量")
    page.goto(f"{site}/oversight")
    expect(page).to_have_url(f"{site}/login?next=%2Foversight")
    page.fill("input[name=username]", "editor1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    expect(page).to_have_url(f"{site}/oversight")
    expect(page.locator("main")).to_contain_text("还没有检查结果")
    expect(page.locator("header nav")).to_contain_text("疑似刷量")
    page.click("header nav a:has-text('合规检查')")
    # The form proposes the day after the newest post (2020-03-07 20:00), not today: a check dated after
    # the last crawl would judge every account silent.
    expect(page.locator("#run-check input[name=at]")).to_have_value("2020-03-08")
    # The last posts are of 2020-03-05..07: at 2020-03-18 甲区发布 (13 days) is an alert, listed first.
    # That is after the data ends, so the site asks first.
    page.fill("#run-check input[name=at]", "2020-03-18")
    page.click("#run-check button")
    expect(page.locator("main .notice")).to_contain_text("晚于数据覆盖的最后一天 2020-03-07")
    page.click("button:has-text('仍在 2020-03-18 检查')")
    # The check runs as a job; its page shows the summary and leads to the check's results.
    expect(page.locator("#check-result")).to_contain_text("已检查 2020-03-18：4 个账号，合格 4 个", timeout=30_000)
    page.click("#check-result a:has-text('查看检查结果')")
    first = page.locator("#check-results tbody tr").first
    expect(first).to_contain_text("甲区发布")
    expect(first).to_contain_text("将于 2020-03-20 起判为睡眠账号")
    expect(page.locator("#pass-rate")).to_have_text("100.0%")
    # A second check point; the filters narrow the list.
    page.fill("#run-check input[name=at]", "2020-04-01")
    page.click("#run-check button")
    page.click("button:has-text('仍在 2020-04-01 检查')")
    page.click("#check-result a:has-text('查看检查结果')", timeout=30_000)
    expect(page.locator("#pass-rate")).to_have_text("0.0%")
    page.locator("#check-filters select[name=platform]").select_option("wechat")
    expect(page.locator("#check-results tbody tr")).to_have_count(1)
    expect(page.locator("#check-results tbody tr").first).to_contain_text("睡眠账号")
    page.click("#check-results a:has-text('微信一')")
    expect(page.locator("#check-history tbody tr")).to_have_count(2)


def test_api_documentation_renders_from_the_site_s_own_files(site, browser):
    """On an intranet no CDN answers: the docs page must load everything from the site itself."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{site}/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    assert page.locator(".opblock").count() > 10
    expect(page.locator("#swagger-ui")).to_contain_text("/api/v1/rankings")
    outside = [url for url in requested if not url.startswith(site) and not url.startswith("data:")]
    assert not outside, outside
    html = page.evaluate("() => document.documentElement.outerHTML")
    assert "cdn" not in html.lower()


def test_the_methodology_page_fits_a_phone(site, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{site}/methodology")
    expect(page.locator("h1")).to_contain_text("评价方法")
    # Wide tables scroll inside their own box; the page itself (and its 64-digit fingerprint) does not.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def _fill(form, values: dict[str, str]) -> None:
    """Type each value into the form's field of that name (an input or a textarea)."""
    for name, value in values.items():
        form.locator(f"[name={name}]").fill(value)


def _sign_in(page, site, user="editor1"):
    page.goto(f"{site}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    expect(page.locator("header")).to_contain_text(user)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_editor_s_registry_day(site, browser, tmp_path, width):
    """The data page in tabs: find an account, change its category only after confirming, upload a
    registry in which every row is wrong and read why, credit a case by picking a name."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    _sign_in(page, site)
    page.goto(f"{site}/data")
    tabs = page.locator("nav.tabs a")
    expect(tabs).to_have_text(["上传与计算", "账号名录", "创新案例", "联动宣传", "导入批次", "报告设置"])
    tabs.nth(1).click()
    expect(page.locator("#registry-count")).to_contain_text("找到 4 个")

    # Search by name.
    page.fill("#registry-search input[name=q]", "乙区")
    page.click("#registry-search button")
    expect(page.locator("#registry tbody tr")).to_have_count(1)
    expect(page.locator("#registry tbody tr")).to_contain_text("乙区发布")

    # A category change is said back first; cancelling changes nothing, confirming does.
    row = page.locator("#registry tbody tr").first
    row.locator("select[name=category]").select_option("livelihood")
    row.locator("button:has-text('改类别')").click()
    expect(page.locator("#account-confirm")).to_contain_text("类别由 区级 改为 民生")
    page.click("#account-confirm a:has-text('取消')")
    expect(page.locator("#registry tbody tr").first.locator("select[name=category]")).to_have_value("district")
    row = page.locator("#registry tbody tr").first
    row.locator("button:has-text('停用')").click()
    expect(page.locator("#account-confirm")).to_contain_text("不再检查它")
    page.click("#account-confirm button:has-text('确认修改')")
    expect(page.locator(".notice.ok")).to_contain_text("已停用")
    page.goto(f"{site}/data/accounts?status=inactive")
    expect(page.locator("#registry tbody tr")).to_have_count(1)

    # A registry file whose every row is wrong: nothing registered, and the page says why, in red.
    bad = tmp_path / "名录.csv"
    bad.write_text("平台,账号ID,名称,类别\n推特,Q,外站账号,区级\n微博,,无ID账号,区级\n", encoding="utf-8")
    page.goto(f"{site}/data/accounts")
    page.click("#registry-forms summary")
    page.set_input_files("#registry-upload input[type=file]", str(bad))
    page.click("#registry-upload button")
    result = page.locator("#registry-result")
    expect(result).to_have_class(re.compile(r"\bbad\b"))
    expect(result).to_contain_text("没有登记任何账号")
    expect(result).to_contain_text("未知平台")
    expect(result.locator("a:has-text('下载拒收行')")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1

    # A case credited by picking an account by its name.
    page.goto(f"{site}/data/cases")
    form = page.locator("#case-form")
    _fill(form, {"case_id": "K9", "title": "战疫短视频", "month": "2020-03", "score": "85"})
    assert page.locator("#account-names option[value='甲区发布（微博）']").count() == 1
    form.locator("input[name=account_ids]").fill("甲区发布（微博）")
    form.locator("input[name=post_ids]").fill("没有这条")  # a mistake: said, and what was typed stays
    form.locator("button").click()
    expect(page.locator(".notice.error")).to_contain_text("内容 没有这条 不在已导入的微博内容中")
    expect(form.locator("input[name=title]")).to_have_value("战疫短视频")
    form.locator("input[name=post_ids]").fill("a1")
    form.locator("button").click()
    expect(page.locator(".notice.ok")).to_contain_text("K9")
    expect(page.locator("#cases table")).to_contain_text("甲区发布")
    page.screenshot(path=str(tmp_path / f"cases-{width}.png"), full_page=True)


def test_an_upload_whose_every_row_is_rejected_says_so(site, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, site)
    page.goto(f"{site}/data")
    upload = tmp_path / "unregistered.csv"
    upload.write_text("平台,账号ID,内容ID,发布时间,正文,转发\n微博,NOPE,x1,2020-03-08 10:00,未登记账号,1\n",
                      encoding="utf-8")
    page.set_input_files("#import input[type=file]", str(upload))
    page.click("#import button")
    outcome = page.locator("#import-outcome")
    expect(outcome).to_contain_text("没有导入任何内容", timeout=30_000)
    expect(outcome).to_have_class(re.compile(r"\bbad\b"))
    expect(page.locator("#import-files")).to_contain_text("不在账号名录中")
    # A PDF sent by mistake is named as one, without a server path.
    page.goto(f"{site}/data")
    pdf = tmp_path / "白皮书.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    page.set_input_files("#import input[type=file]", str(pdf))
    page.click("#import button")
    expect(page.locator("#import-files")).to_contain_text("这是 PDF 文件", timeout=30_000)
    body = page.locator("main").inner_text()
    assert "/tmp" not in body and "uploads" not in body


def test_compare_picks_accounts_by_name(site, browser):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(f"{site}/compare")
    assert page.locator("#compare-accounts option").count() == 4
    boxes = page.locator(".compare-form input[name=account]")
    boxes.nth(0).fill("甲区发布（微博）")
    boxes.nth(1).fill("乙区发布")
    boxes.nth(2).fill("没有这个号")
    page.click(".compare-form button")
    expect(page.locator("#compare canvas")).to_have_count(1)
    expect(page.locator("#compare-unknown")).to_contain_text("没有这个号")
    expect(page.locator(".compare-form input[name=account]").nth(1)).to_have_value("乙区发布（微博）")
    assert page.evaluate("document.documentElement.scrollWidth") <= 391


def test_phone_explanation_and_trend_chart_fit_the_screen(site, browser, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(f"{site}/accounts/weibo/A?from=2020-02&to=2020-03&month=2020-02")
    explain = page.locator("table.explain")
    expect(explain).to_contain_text("ln(1 + 总转发数 10)")  # features by name, not sum_reposts
    assert "sum_" not in explain.inner_text()
    box = explain.bounding_box()
    assert box["x"] + box["width"] <= 391  # one card per dimension, nothing cut
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    # The overview's legend sits below the chart on a phone: not over the axis names.
    page.goto(f"{site}/")
    expect(page.locator("#trend canvas")).to_have_count(1)
    legend_bottom = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('trend'));
        return chart.getOption().legend[0].bottom; }""")
    assert legend_bottom == 0


def test_pages_work_under_the_content_security_policy(site, browser):
    """No inline script is left for the CSP to block: the charts draw, the pickers submit their form,
    and Chromium reports no violation on the pages that use them."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    page.goto(f"{site}/rankings?platform=weibo&category=district&from=2020-02&to=2020-03")
    page.select_option("select[name=category]", "livelihood")  # data-autosubmit, handled by app.js
    page.wait_for_url(re.compile(r"category=livelihood"))
    page.goto(f"{site}/accounts/weibo/A")
    expect(page.locator(".chart[data-rendered='1']").first).to_be_attached(timeout=20_000)
    page.goto(f"{site}/")
    options = page.locator("select[name=period] option")
    if options.count() > 1:
        value = options.nth(1).get_attribute("value")
        page.select_option("select[name=period]", value)  # data-period-select copies from|to
        page.wait_for_url(re.compile("from=" + re.escape(value.split("|")[0])))
    page.goto(f"{site}/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    assert not violations, violations


@pytest.mark.parametrize("width", [1280, 390])
def test_the_office_sets_up_its_white_paper_in_the_browser(site, browser, width):
    """Report settings on the data page: the cover's names in fields, chapters with where they go,
    the rest as TOML; a mistake is said in red with what was typed kept, a preview shows the report
    before anything is saved, and after saving the generated report carries the names."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    _sign_in(page, site)
    page.goto(f"{site}/data/report")
    form = page.locator("#settings-form")
    _fill(form, {"city": "宁城市", "title": "2020年宁城市政务传播白皮书", "guiding_units": "中共宁城市委网信办",
                 "published": "2020-12"})
    chapter = page.locator("fieldset.chapter").last
    chapter.locator("input[name=chapter_file]").fill("绪论.md")
    chapter.locator("select[name=chapter_place]").select_option("before-data")
    chapter.locator("textarea").fill("# 绪论\n\n宁城市政务新媒体**矩阵**初具规模。\n")
    page.click("#settings-form details.advanced summary")
    page.fill("#settings-text", "top = 0\n")  # a mistake in the other settings
    page.click("#settings-form button:has-text('保存设置')")
    expect(page.locator(".notice.error")).to_contain_text("top")
    expect(form.locator("input[name=city]")).to_have_value("宁城市")  # nothing typed is lost
    expect(page.locator("fieldset.chapter textarea").first).to_have_value("# 绪论\n\n宁城市政务新媒体**矩阵**初具规模。\n")
    page.fill("#settings-text", "top = 5\n")
    with page.expect_popup() as opened:
        page.click("#settings-form button:has-text('预览报告')")
    preview = opened.value
    preview.wait_for_load_state()
    body = preview.locator("body")
    expect(body).to_contain_text("2020年宁城市政务传播白皮书")
    expect(body).to_contain_text("中共宁城市委网信办")
    expect(body).to_contain_text("矩阵初具规模")
    expect(preview.locator("strong")).to_contain_text(["矩阵"])
    preview.close()
    page.click("#settings-form button:has-text('保存设置')")
    expect(page.locator(".notice.ok")).to_contain_text("报告设置已保存")
    expect(page.locator("fieldset.chapter input[name=chapter_file]").first).to_have_value("绪论.md")
    expect(page.locator("input[name=city]")).to_have_value("宁城市")
    expect(page.locator("#settings-text")).to_have_value("top = 5\n")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    # The stored settings are what the leaderboard's preview and report use.
    page.goto(f"{site}/reports/preview?from=2020-02&to=2020-03")
    expect(page.locator("body")).to_contain_text("宁城市区级政务微博账号排行榜")
    expect(page.locator("body")).to_contain_text("绪论")
