"""The page's proof-of-work solver (static/js/pow.js) with the vendored altcha worker, in a real browser:
the number is found wherever it falls among the workers' ranges, and a challenge without one ends in null."""

from __future__ import annotations

import datetime
import re

import pytest
from altcha import create_challenge_v1, verify_solution_v1

from tests.browser import session
from tests.browser.conftest import new_context, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KEY = "pow-test-key"
MAX_NUMBER = 999  # 1,000 numbers: 250 for each of 4 workers
# Solves a challenge with a new solver of the page's own module, as loaded (under its hashed name).
SOLVE = """async ({ challenge, workerUrl }) => {
  const url = performance.getEntriesByType("resource").map((entry) => entry.name)
    .find((name) => /\\/js\\/pow\\.[0-9a-f]{12}\\.js$/.test(name));
  const { ProofOfWork } = await import(url);
  const pow = new ProofOfWork({ workerUrl: workerUrl ?? document.getElementById("call").dataset.powWorker });
  pow.start(challenge);
  return { solution: await pow.solution(), workers: pow.lastWorkers };
}"""


def page_with_cores(browser, server, cores: int):
    """The call page the module's solves share, each with a new solver of its own (a context and a page
    apiece would cost some 1.3 CPU seconds each); its processor count is `cores` from now on."""

    def open_page():
        context = new_context(browser)
        counted = "Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => window.cores ?? 4 });"
        context.add_init_script(counted)
        page = context.new_page()
        page.goto(f"{server.http_url}/meet/")
        wait_js(page, "window.alienmeet && window.alienmeet.signalingOpen", timeout=15000)
        return page

    page = session.kept_page(f"proof of work at {server.http_url}", browser, open_page)
    page.evaluate(f"window.cores = {cores}")
    return page


def challenge(number: int, max_number: int = MAX_NUMBER) -> dict:
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    return create_challenge_v1(max_number=max_number, number=number, hmac_key=KEY, expires=expires).to_dict()


def solve(page, challenge: dict, worker_url: str | None = None) -> dict:
    return page.evaluate(SOLVE, {"challenge": challenge, "workerUrl": worker_url})


def test_the_page_names_the_collected_worker(visitor):
    page = visitor()
    url = page.evaluate("document.getElementById('call').dataset.powWorker")
    assert re.fullmatch(r"/static/vendor/altcha-2\.3\.0/worker\.[0-9a-f]{12}\.js", url), url


@pytest.mark.parametrize("number", [0, 249, 250, 499, 500, 749, 750, MAX_NUMBER])
def test_the_number_is_found_at_the_edges_of_every_workers_range(browser, site_server, number):
    page = page_with_cores(browser, site_server, 4)
    result = solve(page, challenge(number))
    assert result["workers"] == 4
    solution = result["solution"]
    assert solution["number"] == number
    ok, error = verify_solution_v1(solution, KEY)
    assert ok, error


@pytest.mark.parametrize(("cores", "workers"), [(0, 1), (1, 1), (3, 3), (16, 4)])
def test_one_worker_a_core_and_at_most_four(browser, site_server, cores, workers):
    page = page_with_cores(browser, site_server, cores)
    result = solve(page, challenge(MAX_NUMBER // 2))
    assert result["solution"]["number"] == MAX_NUMBER // 2
    assert result["workers"] == workers


def test_no_number_in_range_and_a_missing_worker_both_end_in_null(browser, site_server):
    page = page_with_cores(browser, site_server, 4)
    # The secret number lies past maxNumber: every worker searches its range in vain.
    beyond = challenge(1500, max_number=1500) | {"maxNumber": MAX_NUMBER}
    assert solve(page, beyond)["solution"] is None
    assert solve(page, challenge(7), worker_url="/static/vendor/altcha-2.3.0/missing.js")["solution"] is None
