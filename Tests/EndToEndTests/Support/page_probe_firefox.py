#!/usr/bin/env python3
"""page_probe.py's twin for Firefox: loads a page in headless Firefox over WebDriver BiDi (which
Firefox speaks itself: no geckodriver) and prints the same JSON object: every URL the page
requested, its console errors and uncaught exceptions, each element's data-k / data-v / text once
the page has drawn (document.body.dataset.drawn), the page's own first-draw time and where the
1280x800 screenshot went.

usage: page_probe_firefox.py URL SCREENSHOT.png [TIMEOUT_SECONDS]

Firefox (Debian: firefox-esr) is started by this script with a profile of its own, on a BiDi
port it picks itself (read back from the profile's WebDriverBiDiServer.json, so two probes never
meet), with every request that is not for 127.0.0.1 sent to a closed port there (Firefox's own
background services included), and stopped by its PID when done. Every answer must come within
TIMEOUT_SECONDS: a browser that stops answering is an error, not a wait without end.
"""
import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import aiohttp

# No __pycache__ beside the test sources (SwiftPM would warn about it as an unhandled file).
sys.dont_write_bytecode = True
from page_probe import ELEMENTS, read_elements, stop  # beside this file: what both probes read and do the same way

# Loopback only: other hosts go through a proxy on a closed port of 127.0.0.1 and fail at once
# (127.0.0.1 itself is never proxied); updates, telemetry and the like are off besides.
PREFERENCES = {
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1", "network.proxy.http_port": 9,
    "network.proxy.ssl": "127.0.0.1", "network.proxy.ssl_port": 9,
    "network.proxy.share_proxy_settings": True,
    "app.update.disabledForTesting": True,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.newtabpage.enabled": False,
    "extensions.update.enabled": False,
}

def browser():
    found = shutil.which("firefox-esr") or shutil.which("firefox")
    if found is None:
        raise SystemExit("no firefox-esr or firefox on PATH (Debian: apt-get install firefox-esr)")
    return found


async def probe(url, shot, timeout):
    profile = tempfile.mkdtemp(prefix="driftwood-firefox-")
    with open(os.path.join(profile, "user.js"), "w") as f:
        for key, value in PREFERENCES.items():
            f.write("user_pref(%s, %s);\n" % (json.dumps(key), json.dumps(value)))
    firefox = subprocess.Popen(
        [browser(), "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", "0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        port_file = os.path.join(profile, "WebDriverBiDiServer.json")
        port = None
        while port is None:
            try:
                port = json.load(open(port_file))["ws_port"]
            except (OSError, ValueError, KeyError):
                if time.time() > deadline or firefox.poll() is not None:
                    raise SystemExit("firefox did not open WebDriver BiDi")
                await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect("ws://127.0.0.1:%d/session" % port, max_msg_size=0)
            requests, errors, sent = [], [], [0]

            async def call(method, **params):
                sent[0] += 1
                await ws.send_str(json.dumps({"id": sent[0], "method": method, "params": params}))
                while True:
                    received = await asyncio.wait_for(ws.receive(), timeout)
                    if received.type != aiohttp.WSMsgType.TEXT:
                        raise SystemExit("the WebDriver BiDi connection closed during %s" % method)
                    m = json.loads(received.data)
                    if m.get("type") == "event":
                        p = m.get("params", {})
                        # data: URLs (the page's empty icon) are not requests to anywhere.
                        if m.get("method") == "network.beforeRequestSent" and not p["request"]["url"].startswith("data:"):
                            requests.append(p["request"]["url"])
                        elif m.get("method") == "log.entryAdded" and p.get("level") == "error":
                            errors.append("%s: %s" % (p.get("type"), p.get("text")))
                        continue
                    if m.get("id") == sent[0]:
                        if m.get("type") == "error":
                            raise SystemExit("%s: %s: %s" % (method, m.get("error"), m.get("message")))
                        return m["result"]

            async def evaluate(expression):
                r = await call("script.evaluate", expression=expression, target={"context": context}, awaitPromise=True)
                if r.get("type") == "exception":
                    raise SystemExit("script.evaluate: %s" % r.get("exceptionDetails", {}).get("text"))
                return r["result"].get("value")

            version = (await call("session.new", capabilities={}))["capabilities"]["browserVersion"]
            await call("session.subscribe", events=["log.entryAdded", "network.beforeRequestSent"])
            context = (await call("browsingContext.getTree"))["contexts"][0]["context"]
            await call("browsingContext.setViewport", context=context, viewport={"width": 1280, "height": 800})
            await call("browsingContext.navigate", context=context, url=url, wait="complete")
            while not await evaluate("!!(document.body && document.body.dataset.drawn)"):
                if time.time() > deadline:
                    raise SystemExit("the page never drew (document.body.dataset.drawn unset)")
                await asyncio.sleep(0.05)
            elements = await evaluate(ELEMENTS)
            first_draw = await evaluate("document.body.dataset.firstDrawMs")
            draw = await evaluate("document.body.dataset.drawMs")
            picture = await call("browsingContext.captureScreenshot", context=context)
            with open(shot, "wb") as f:
                f.write(base64.b64decode(picture["data"]))
            await asyncio.sleep(0.2)  # late console messages
            await evaluate("1")  # reads the events that came meanwhile
            await ws.close()
            values, texts, order = read_elements(elements)
            return {"browser": "firefox " + version, "requests": requests, "order": order, "console_errors": errors,
                    "values": values, "texts": texts, "first_draw_ms": float(first_draw), "draw_ms": float(draw),
                    "screenshot": shot}
    finally:
        stop(firefox, profile)


if __name__ == "__main__":
    args = sys.argv[1:]
    result = asyncio.run(probe(args[0], args[1], float(args[2]) if len(args) > 2 else 30))
    print(json.dumps(result))
