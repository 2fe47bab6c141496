"""axe-core in the browser tests, served from our own static files (the CSP forbids
inline scripts, so it is loaded by URL like any of our scripts)."""

from __future__ import annotations

BLOCKING = {"serious", "critical"}


def axe_violations(page, base_url: str) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=f"{base_url}/static/vendor/axe/axe.min.js")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def assert_accessible(page, base_url: str) -> None:
    violations = axe_violations(page, base_url)
    assert violations == [], f"axe-core violations on {page.url}: {violations}"
