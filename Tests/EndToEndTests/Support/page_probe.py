#!/usr/bin/env python3
"""Loads a page in headless Chromium over the DevTools protocol and prints one JSON object:
every URL the page requested, its console errors and uncaught exceptions, each element's
data-k / data-v / text once the page has drawn (document.body.dataset.drawn), the page's own
first-draw time (document.body.dataset.firstDrawMs) and where the 1280x800 screenshot went;
with --full, also a screenshot of the whole page (1280 wide, as tall as the page) beside it, as
SCREENSHOT-full.png.

usage: page_probe.py URL SCREENSHOT.png [TIMEOUT_SECONDS] [--full]

Chromium is started by this script on a DevTools port of its choosing, with a profile of its
own, and stopped by its PID when done.
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

# Every element the page marks with data-k, as [key, data-v, text], in document order.
ELEMENTS = "JSON.stringify([...document.querySelectorAll('[data-k]')].map(e => [e.dataset.k, e.dataset.v, e.textContent]))"


def read_elements(elements):
    """ELEMENTS' answer as the probe's values, texts (by key) and order (the keys in document order)."""
    values, texts, order = {}, {}, []
    for k, v, text in json.loads(elements):
        values[k] = v
        texts[k] = text
        order.append(k)
    return values, texts, order


def stop(browser, profile):
    """Stops the browser by its PID (killed after 10 s) and removes its profile."""
    browser.terminate()
    try:
        browser.wait(10)
    except subprocess.TimeoutExpired:
        browser.kill()
    shutil.rmtree(profile, ignore_errors=True)


async def probe(url, shot, timeout, full=False):
    profile = tempfile.mkdtemp(prefix="driftwood-chromium-")
    chromium = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         "--remote-debugging-address=127.0.0.1", "--user-data-dir=" + profile, "--window-size=1280,800",
         "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", "--disable-default-apps", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + timeout
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() > deadline or chromium.poll() is not None:
                raise SystemExit("chromium did not open its DevTools port")
            await asyncio.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        async with aiohttp.ClientSession() as http:
            targets = []
            while not targets:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as r:
                    targets = [t for t in await r.json() if t.get("type") == "page"]
                if not targets:
                    await asyncio.sleep(0.05)
            ws = await http.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0)
            pending, requests, errors = {}, [], []
            counter = [0]

            async def reader():
                async for msg in ws:
                    m = json.loads(msg.data)
                    if "id" in m and m["id"] in pending:
                        pending.pop(m["id"]).set_result(m)
                        continue
                    method, p = m.get("method"), m.get("params", {})
                    if method == "Network.requestWillBeSent":
                        requests.append(p["request"]["url"])
                    elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                        errors.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
                    elif method == "Runtime.exceptionThrown":
                        d = p.get("exceptionDetails", {})
                        errors.append("exception: " + str(d.get("exception", {}).get("description", d.get("text"))))
                    elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                        errors.append("log: " + p["entry"].get("text", "") + " " + p["entry"].get("url", ""))

            task = asyncio.create_task(reader())

            async def call(method, **params):
                counter[0] += 1
                future = asyncio.get_running_loop().create_future()
                pending[counter[0]] = future
                await ws.send_str(json.dumps({"id": counter[0], "method": method, "params": params}))
                answer = await asyncio.wait_for(future, timeout)
                if "error" in answer:
                    raise SystemExit(f"{method}: {answer['error']}")
                return answer.get("result", {})

            async def evaluate(expression):
                r = await call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
                return r.get("result", {}).get("value")

            for domain in ("Network", "Runtime", "Log", "Page"):
                await call(domain + ".enable")
            await call("Emulation.setDeviceMetricsOverride", width=1280, height=800, deviceScaleFactor=1, mobile=False)
            await call("Page.navigate", url=url)
            while not await evaluate("!!(document.body && document.body.dataset.drawn)"):
                if time.time() > deadline:
                    raise SystemExit("the page never drew (document.body.dataset.drawn unset)")
                await asyncio.sleep(0.05)
            elements = await evaluate(ELEMENTS)
            first_draw = await evaluate("document.body.dataset.firstDrawMs")
            draw = await evaluate("document.body.dataset.drawMs")
            picture = await call("Page.captureScreenshot", format="png")
            with open(shot, "wb") as f:
                f.write(base64.b64decode(picture["data"]))
            full_shot = None
            if full:
                height = await evaluate("Math.ceil(document.documentElement.scrollHeight)")
                await call("Emulation.setDeviceMetricsOverride", width=1280, height=int(height), deviceScaleFactor=1, mobile=False)
                await asyncio.sleep(0.3)  # the layout at the new height
                picture = await call("Page.captureScreenshot", format="png")
                full_shot = shot[:-4] + "-full.png" if shot.endswith(".png") else shot + "-full.png"
                with open(full_shot, "wb") as f:
                    f.write(base64.b64decode(picture["data"]))
            await asyncio.sleep(0.2)  # late console messages
            task.cancel()
            await ws.close()
            values, texts, order = read_elements(elements)
            return {"requests": requests, "order": order, "console_errors": errors, "values": values, "texts": texts,
                    "first_draw_ms": float(first_draw), "draw_ms": float(draw), "screenshot": shot,
                    "full_screenshot": full_shot}
    finally:
        stop(chromium, profile)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--full"]
    result = asyncio.run(probe(args[0], args[1], float(args[2]) if len(args) > 2 else 30, full="--full" in sys.argv))
    print(json.dumps(result))
