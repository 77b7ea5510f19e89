#!/usr/bin/env python3
"""Loads a running driftwood's status page in headless Firefox and says what it drew.

Firefox (Debian: `apt-get install firefox-esr`) is driven over WebDriver BiDi, which it speaks
itself (`--remote-debugging-port`; no geckodriver), with aiohttp's WebSocket client. The page is
loaded at 1280x800, given --wait seconds to draw, and then the script prints one JSON object: the
browser's version, the model cards and charts in the DOM, and every console entry (an error in
the page's script shows there). A full-page screenshot goes to --screenshot.

(`firefox --headless --screenshot` is no substitute: it captures before Firefox decides which
`content-visibility: auto` cards are in view, so the model cards come out as empty boxes.)

usage: status_firefox.py URL [--screenshot FILE] [--wait 4] [--timeout 60] [--port 9333]
   e.g. driftwood run pipelines/demo.yml --data-dir /tmp/demo --metrics-address 127.0.0.1:9600 --serve &
        python3 bench/status_firefox.py http://127.0.0.1:9600/ --screenshot /tmp/status-firefox.png
"""
import argparse
import asyncio
import base64
import json
import shutil
import subprocess
import sys
import tempfile

import aiohttp

DOM = """JSON.stringify({
  cards: document.querySelectorAll('.model').length,
  charts: document.querySelectorAll('.model svg').length,
  stages: document.querySelectorAll('.stage').length,
  alerts: document.querySelectorAll('.alert').length})"""


async def check(args, profile):
    browser = shutil.which("firefox-esr") or shutil.which("firefox")
    if browser is None:
        sys.exit("status_firefox: no firefox-esr or firefox on PATH (apt-get install firefox-esr)")
    process = subprocess.Popen(
        [browser, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", str(args.port),
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as session:
            ws = None
            for _ in range(150):
                try:
                    ws = await session.ws_connect("ws://127.0.0.1:%d/session" % args.port)
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            if ws is None:
                sys.exit("status_firefox: Firefox did not open WebDriver BiDi on port %d" % args.port)
            console, sent = [], [0]

            async def command(method, params):
                sent[0] += 1
                await ws.send_str(json.dumps({"id": sent[0], "method": method, "params": params}))
                while True:
                    # Every answer within --timeout: a browser that stops answering is an error,
                    # not a wait without end.
                    received = await asyncio.wait_for(ws.receive(), args.timeout)
                    if received.type != aiohttp.WSMsgType.TEXT:
                        sys.exit("status_firefox: the WebDriver BiDi connection closed during %s" % method)
                    message = json.loads(received.data)
                    if message.get("type") == "event":
                        if message.get("method") == "log.entryAdded":
                            entry = message["params"]
                            console.append({"level": entry.get("level"), "text": entry.get("text")})
                        continue
                    if message.get("id") == sent[0]:
                        if message.get("type") == "error":
                            sys.exit("status_firefox: %s: %s" % (method, message.get("message")))
                        return message["result"]

            version = (await command("session.new", {"capabilities": {}}))["capabilities"]["browserVersion"]
            await command("session.subscribe", {"events": ["log.entryAdded"]})
            context = (await command("browsingContext.getTree", {}))["contexts"][0]["context"]
            await command("browsingContext.setViewport", {"context": context, "viewport": {"width": 1280, "height": 800}})
            await command("browsingContext.navigate", {"context": context, "url": args.url, "wait": "complete"})
            await asyncio.sleep(args.wait)
            dom = await command("script.evaluate", {
                "expression": DOM, "target": {"context": context}, "awaitPromise": False})
            report = {"firefox": version, "url": args.url, "console": console}
            report.update(json.loads(dom["result"]["value"]))
            if args.screenshot:
                shot = await command("browsingContext.captureScreenshot", {"context": context, "origin": "document"})
                with open(args.screenshot, "wb") as f:
                    f.write(base64.b64decode(shot["data"]))
                report["screenshot"] = args.screenshot
            print(json.dumps(report))
    finally:
        process.terminate()
        process.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--screenshot")
    ap.add_argument("--wait", type=float, default=4.0, help="seconds to let the page draw (default 4)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each answer (default 60)")
    ap.add_argument("--port", type=int, default=9333, help="WebDriver BiDi port on 127.0.0.1 (default 9333)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="driftwood-firefox-") as profile:
        asyncio.run(check(args, profile))


if __name__ == "__main__":
    main()
