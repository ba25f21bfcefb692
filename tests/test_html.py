"""The HTML page in headless Chromium: offline, every formula drawn, the explorer over every step,
text that stays text. Numbers expected come from the article (seed A's step 1) or from the
trace's JSON, rounded here half up to the report's decimals."""
from __future__ import annotations

import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from support import EXAMPLES, require

from derive.cli import main

CHROMIUM = os.environ.get("DERIVE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DERIVE_CHROMEDRIVER", "/usr/bin/chromedriver")


def rounded(value: float, places: int = 4) -> str:
    """A number as the report shows it: half up to `places` decimals, trailing zeros dropped."""
    text = format(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    require("selenium", webdriver is not None, 'pip install ".[test]" installs it')
    require("chromium", Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(),
            "apt-get install chromium chromium-driver (or set DERIVE_CHROMIUM and DERIVE_CHROMEDRIVER)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    yield driver
    driver.quit()


def page(tmp_path, name: str, spec: Path | None = None) -> Path:
    out = tmp_path / f"{name}.html"
    assert main(["run", str(spec or EXAMPLES / f"{name}.toml"), "--format", "html", "-o", str(out)]) == 0
    return out


def trace_json(tmp_path, capsys, name: str) -> dict:
    capsys.readouterr()
    assert main(["run", str(EXAMPLES / f"{name}.toml"), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def open_page(browser, path: Path, fragment: str = ""):
    browser.get("about:blank")
    browser.get_log("browser")  # drop what came before
    browser.get(path.as_uri() + fragment)
    return browser


def errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


@pytest.mark.parametrize("name", ["seed_a_linear_regression", "seed_c_relu_sigmoid_network",
                                  "layers_three_four_one"])
def test_page_loads_offline_and_every_formula_renders(browser, tmp_path, name):
    path = page(tmp_path, name)
    open_page(browser, path)
    assert errors(browser) == []
    # Nothing was fetched: the page is one file.
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    boxes = browser.execute_script(
        "return Array.from(document.querySelectorAll('math')).map(m => {"
        "const r = m.getBoundingClientRect(); return [r.width, r.height];})")
    assert len(boxes) > 20
    assert all(w > 0 and h > 0 for w, h in boxes), [b for b in boxes if not (b[0] > 0 and b[1] > 0)][:5]
    assert browser.execute_script("return document.querySelectorAll('merror').length") == 0
    text = browser.execute_script("return document.body.innerText")
    for raw in ("\\frac", "\\left", "\\partial", "$$", "\\begin", "\x00", "{0[", "{1["):
        assert raw not in text
    (tmp_path / "screenshots").mkdir(exist_ok=True)
    browser.save_screenshot(str(tmp_path / "screenshots" / f"{name}.png"))
    assert (tmp_path / "screenshots" / f"{name}.png").stat().st_size > 10_000


def graph_label(browser, key_text: str) -> str:
    """The texts of the graph box whose name reads `key_text`."""
    return browser.execute_script(
        "for (const g of document.querySelectorAll('#explorer svg.graph g.box')) {"
        "  if (g.querySelector('text.name').textContent === arguments[0]) return g.textContent; }"
        "return null;", key_text)


def test_seed_a_explorer_opens_on_step_one_with_the_articles_numbers(browser, tmp_path):
    open_page(browser, page(tmp_path, "seed_a_linear_regression"))
    # The article: ŷ = -0.116 for the first row, w1 becomes 0.8294 after the step.
    assert "= -0.1160" in graph_label(browser, "ŷ")
    panel = browser.find_element("id", "explorer-step").text
    assert "Step 1 (epoch 1, row 1)" in panel and "0.8294" in panel


def test_right_arrow_three_times_shows_step_four(browser, tmp_path, capsys):
    # The page shows the run carried as the report carries it: rounded as shown, as the JSON of
    # the same spec with carry = "rounded" holds it.
    spec = tmp_path / "rounded.toml"
    spec.write_text((EXAMPLES / "seed_a_linear_regression.toml").read_text().replace("[report]", '[report]\ncarry = "rounded"'))
    capsys.readouterr()
    assert main(["run", str(spec), "--format", "json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(browser, page(tmp_path, "seed_a_linear_regression"))
    browser.find_element("tag name", "h1").click()
    for _ in range(3):
        ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    assert browser.find_element("id", "step-label").text.startswith("Step 4 of 6")
    four = steps[3]
    assert f"= {rounded(four['values']['yhat'])}" in graph_label(browser, "ŷ")
    assert f"∂L/∂ŷ {rounded(four['deltas']['yhat'])}" in graph_label(browser, "ŷ")
    assert f"= {rounded(four['params']['w1'])}" in graph_label(browser, "w1")
    assert f"∂L/∂w1 {rounded(four['gradients']['w1'])}" in graph_label(browser, "w1")
    edges = browser.execute_script(
        "return Array.from(document.querySelectorAll('#explorer svg.graph text.partial')).map(t => t.lastChild.textContent)")
    assert sorted(edges) == sorted(rounded(v) for v in four["local"].values())
    assert browser.current_url.endswith("#step=4")
    panel = browser.find_element("id", "explorer-step").text
    assert "Step 4 (epoch 1, row 4)" in panel and rounded(four["updated"]["w1"]) in panel.replace("−", "-")


def test_fragment_opens_a_step_and_fills_it_as_the_report_writes_it(browser, tmp_path):
    open_page(browser, page(tmp_path, "seed_a_linear_regression"), "#step=6")
    assert browser.find_element("id", "step-label").text.startswith("Step 6 of 6")
    same = browser.execute_script(
        "const live = document.querySelector('#explorer-step section.step');"
        "const fixed = document.querySelectorAll('#worked section.step')[5];"
        "return [live.innerHTML === fixed.innerHTML, live.innerHTML.length];")
    assert same[0] and same[1] > 1000


def test_explorer_reaches_steps_not_written_out(browser, tmp_path):
    # 3-4-1 shows one of its 4 steps in full; the explorer works the others from the numbers.
    open_page(browser, page(tmp_path, "layers_three_four_one"), "#step=3")
    assert browser.find_element("id", "step-label").text.startswith("Step 3 of 4")
    assert "Step 3 (epoch 2, rows 1, 2)" in browser.find_element("id", "explorer-step").text
    assert len(browser.find_elements("css selector", "#worked section.step")) == 1
    assert browser.execute_script("return document.querySelectorAll('#explorer-step merror').length") == 0


def test_print_shows_the_selected_step_without_controls(browser, tmp_path):
    open_page(browser, page(tmp_path, "seed_a_linear_regression"), "#step=3")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        hidden = browser.execute_script("return getComputedStyle(document.getElementById('step-next')).display")
        shown = browser.find_element("id", "explorer-step").text
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert hidden == "none" and "Step 3 (epoch 1, row 3)" in shown


def test_hostile_text_is_inert_in_the_page(browser, tmp_path):
    hostile = '<script>window.__pwned = 1</script></svg>"><img src=x onerror="window.__pwned = 2">'
    spec = (EXAMPLES / "seed_a_linear_regression.toml").read_text()
    spec = re.sub(r"(?m)^title = .*$", lambda _: f"title = '{hostile}'", spec)
    # [report.names] cannot carry it: names are refused at load unless they keep to safe LaTeX.
    path = tmp_path / "hostile.toml"
    path.write_text(spec)
    open_page(browser, page(tmp_path, "hostile", path))
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_element("tag name", "h1").text == hostile
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert errors(browser) == []


def test_page_is_one_file_without_network_references(tmp_path):
    text = page(tmp_path, "seed_a_linear_regression").read_text()
    text = text.replace('xmlns="http://www.w3.org/2000/svg"', "").replace("url(#arrow)", "")
    for reference in ("http://", "https://", "src=", "@import", "url(", "href=\"/", "href=\"http"):
        assert reference not in text


def problem_text(html: str) -> str:
    """The problem section as a reader sees it: tags dropped, each formula's characters kept."""
    start = html.index('<section id="problem"')
    section = html[start:html.index("</section>", start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", section)).replace("&#39;", "'")


def test_problem_states_how_numbers_are_rounded_and_defines_the_rules_symbols(tmp_path):
    text = problem_text(page(tmp_path, "seed_a_with_adam").read_text())
    assert ("Every computed number is rounded half up to 4 decimal places (4 significant figures below 0.1) when "
            "it is made and used as printed from then on, so each line checks by hand from the numbers on it") in text
    # Adam's rule (PyTorch's defaults 0.9, 0.999, 10^-8, as MathML) over batches of 2 rows: each symbol is said once.
    for definition in ("θ stands for each trained parameter", "η is the learning rate",
                       "L¯ is the loss of a step's batch, the mean of its rows' losses",
                       "β1 is the decay rate of the first moment (0.9)",
                       "β2 is the decay rate of the second moment (0.999)",
                       "ϵ is a small constant that keeps the division finite (10−8)",
                       "t is the step number, counted from 1", "mt is the running mean of the gradient (first moment)"):
        assert definition in text, definition


def test_problem_of_a_full_precision_run_says_so(tmp_path):
    spec = tmp_path / "full.toml"
    spec.write_text((EXAMPLES / "seed_a_linear_regression.toml").read_text().replace("[report]", "[report]\ncarry = \"full\""))
    text = problem_text(page(tmp_path, "full", spec).read_text())
    assert "Numbers are computed in full precision and printed rounded half up to 4 decimal places" in text
