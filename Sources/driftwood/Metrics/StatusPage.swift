/// The status page `GET /` serves: one self-contained HTML document (styles and script inline,
/// nothing fetched but `/api/v1/status` on the same address, so it works offline). It draws the
/// pipeline as inputs → filters → outputs with rates and queue fill, one card per model with
/// charts over the last hour (error rate, latency, largest drift score, each with its threshold
/// line), its drift per feature and the prediction's distribution against the baseline now,
/// performance and fairness over the last hour when `evaluate` runs, and the alerts, firing
/// first. It refreshes itself every 2 s (`?refresh=SECONDS` to change).
///
/// Every number shown sits in an element with `data-k` (what it is, like
/// `stage:parse_0:events_in`) and `data-v` (the value as the API gave it), and every chart says
/// how many points or bars it drew the same way (`chart:<model>:<series>`), so a test can hold
/// the page against `/api/v1/status`.
enum StatusPage {
    static let bytes: [UInt8] = Array(html.utf8)

    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>driftwood status</title>
        <link rel="icon" href="data:,">
        <style>
        \(style)
        </style>
        </head>
        <body>
        \(body)
        <script>
        \(script)
        </script>
        </body>
        </html>

        """

    /// The page's skeleton; the script fills it from `/api/v1/status`.
    static let body = #"""
        <header>
          <h1>driftwood</h1>
          <span class="meta" id="pipe">connecting…</span>
          <span id="status"></span>
          <span class="meta" id="reload"></span>
          <span class="grow"></span>
          <span class="meta" id="totals"></span>
          <span class="meta" id="updated"></span>
        </header>
        <div id="banner"></div>
        <main>
          <div class="row">
            <section class="card" id="flowcard"><h2>Pipeline <span class="sub">events per second over the last 10 s · queue fill</span></h2>
              <div id="flow"></div>
              <div id="throughput"></div>
            </section>
            <section class="card" id="alertcard"><h2>Alerts <span class="sub" id="alertcount"></span></h2><div id="alerts"></div></section>
          </div>
          <div id="models"></div>
        </main>
        """#
}
